package harden

// permissionControls: CIS section 7.1, permissions of account databases.
func permissionControls() []Control {
	accounts := "The account databases must not be writable by anyone but root; the shadow files hold password " +
		"hashes and must not be readable by ordinary users, who could otherwise crack them offline."
	nist := []string{"AC-3", "AC-6"}
	return []Control{
		permControl("perm-passwd", "7.1.1, 7.1.2", "Restrict access to /etc/passwd and its backup", accounts, nist,
			permSpec{Path: "/etc/passwd", Max: 0o644}, permSpec{Path: "/etc/passwd-", Max: 0o644, Optional: true}),
		permControl("perm-group", "7.1.3, 7.1.4", "Restrict access to /etc/group and its backup", accounts, nist,
			permSpec{Path: "/etc/group", Max: 0o644}, permSpec{Path: "/etc/group-", Max: 0o644, Optional: true}),
		permControl("perm-shadow", "7.1.5, 7.1.6", "Restrict access to /etc/shadow and its backup", accounts, nist,
			permSpec{Path: "/etc/shadow", Max: 0o640, Groups: []string{"shadow"}},
			permSpec{Path: "/etc/shadow-", Max: 0o640, Groups: []string{"shadow"}, Optional: true}),
		permControl("perm-gshadow", "7.1.7, 7.1.8", "Restrict access to /etc/gshadow and its backup", accounts, nist,
			permSpec{Path: "/etc/gshadow", Max: 0o640, Groups: []string{"shadow"}},
			permSpec{Path: "/etc/gshadow-", Max: 0o640, Groups: []string{"shadow"}, Optional: true}),
		permControl("perm-shells", "7.1.9", "Restrict access to /etc/shells",
			"/etc/shells decides which shells count as valid login shells; only root may change it.", nist,
			permSpec{Path: "/etc/shells", Max: 0o644}),
	}
}

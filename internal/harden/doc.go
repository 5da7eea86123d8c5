// Package harden holds kiln's built-in hardening profiles: sets of controls
// that each know how to configure a Debian image (Apply, a POSIX sh fragment
// run as root inside the image's root tree), how to check it offline against
// that tree (Audit) and, where a running system is needed, how to check it
// again inside the booted VM (Runtime).
//
// The built-in profile cis-debian-l1 follows the CIS Debian Linux 12
// Benchmark v1.1.0, Level 1 - Server (plus a few items the issue asks for
// that CIS files under Level 2, such as auditd), for Debian 12 and 13. Every
// control names the benchmark section it follows and the NIST SP 800-53
// rev. 5 controls it supports.
//
// The flow of one build:
//
//	plan, err := harden.Resolve(tailoring)   // profile, parameters, deviations
//	install plan.Packages() with apt-get     // inside the image
//	run plan.ApplyScript() as root           // inside the image (chroot)
//	report := plan.AuditOffline(rootDir)     // offline checks of the tree
//	... boot the image, run plan.RuntimeScript() over SSH ...
//	report = plan.MergeRuntime(report, output)
//	report.JSON(), report.HTML()             // the evidence
//
// Files the profile writes that other parts of kiln read:
//
//   - /etc/kiln/kernel-cmdline.d/*.conf: extra kernel arguments, one or more
//     per line, whitespace separated, '#' starts a comment. kiln writes its
//     own grub.cfg, so the disk assembler is expected to append these to the
//     kernel command line (AppArmor and audit need them).
//   - /boot/grub/grub.cfg: created empty with mode 0600 when absent, so that
//     the assembler's later write keeps the restrictive mode.
//
// SSH and the build's own access: the profile sets PermitRootLogin from the
// parameter sshPermitRootLogin (default "no", as CIS asks). kiln's validation
// VM logs in as root with an ephemeral public key, so a template that
// validates in a VM sets sshPermitRootLogin to "prohibit-password"; the
// control is then recorded as a deviation with a generated reason, and the
// root group is added to AllowGroups. Password authentication is always off
// and public-key authentication on.
package harden

package harden

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRuntimeChecksFromCaches runs runtime checks of the profile with sh,
// with the prelude's caches (sshd -T, auditctl -l, /proc/modules,
// modprobe --showconfig) set to what a compliant or a non-compliant
// running system would print.
func TestRuntimeChecksFromCaches(t *testing.T) {
	plan := mustResolve(t, Tailoring{Profile: "cis-debian-l1"})
	tests := []struct {
		control, caches, want string
	}{
		{"kmod-cramfs", `kiln_loaded_modules='ext4 virtio_blk '; kiln_modprobe_install='install cramfs /bin/false'`, "pass"},
		{"kmod-cramfs", `kiln_loaded_modules='cramfs ext4 '; kiln_modprobe_install='install cramfs /bin/false'`, "fail cramfs is loaded"},
		{"kmod-cramfs", `kiln_loaded_modules=''; kiln_modprobe_install='install cramfsx /bin/false'`, "fail modprobe --showconfig has no"},
		{"kmod-usb-storage", `kiln_loaded_modules=''; kiln_modprobe_install='install dccp /bin/false
install usb_storage /bin/true'`, "pass"},
		{"kmod-usb-storage", `kiln_loaded_modules='usb_storage '; kiln_modprobe_install='install usb_storage /bin/false'`, "fail usb-storage is loaded"},
		{"audit-rules-scope", `kiln_audit_rules='-w /etc/sudoers -p wa -k scope
-w /etc/sudoers.d -p wa -k scope'`, "pass"},
		{"audit-rules-scope", `kiln_audit_rules='-w /etc/sudoers -p wa -k scopes'`, "fail no loaded audit rule with key scope"},
		{"audit-rules-time", `kiln_audit_rules='-a always,exit -F arch=b64 -S adjtimex,settimeofday -F key=time-change'`, "pass"},
		{"audit-rules-time", `kiln_audit_rules=''`, "fail"},
		{"ssh-permit-root-login", `kiln_sshd_config='port 22
permitrootlogin no
permittunnel no'`, "pass"},
		{"ssh-permit-root-login", `kiln_sshd_config='permitrootlogin yes'`, "fail"},
		{"ssh-permit-root-login", `kiln_sshd_config=''`, "fail"},
		{"ssh-ciphers", `kiln_sshd_config='ciphers aes256-gcm@openssh.com,aes128-ctr'`, "pass"},
		{"ssh-ciphers", `kiln_sshd_config='ciphers aes256-gcm@openssh.com,aes128-cbc'`, "fail sshd -T: ciphers"},
		{"ssh-max-auth-tries", `kiln_sshd_config='maxauthtries 4'`, "pass"},
		{"ssh-max-auth-tries", `kiln_sshd_config='maxauthtriesx 4
maxauthtries 6'`, "fail"},
	}
	for _, tc := range tests {
		t.Run(tc.control+" "+tc.want, func(t *testing.T) {
			got := runRuntimeCheck(t, plan, tc.control, tc.caches)
			if !strings.HasPrefix(got, "KILN-CHECK "+tc.control+" "+tc.want) {
				t.Errorf("got %q, want a line starting %q", got, "KILN-CHECK "+tc.control+" "+tc.want)
			}
		})
	}
}

func runRuntimeCheck(t *testing.T, p *Plan, id, caches string) string {
	t.Helper()
	var runtime string
	for _, c := range p.controls {
		if c.ID == id {
			runtime = c.Runtime
		}
	}
	if runtime == "" {
		t.Fatalf("control %s has no runtime check", id)
	}
	script := p.envExports() + runtimePrelude + caches + "\nkiln_out=$( {\n" + runtime + "\n} 2>/dev/null )\nkiln_emit " + shq(id) + ` "$kiln_out"` + "\n"
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

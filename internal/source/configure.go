package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kiln-dev/kiln/internal/hostexec"
)

// ReadyMarker is printed on the serial console by kiln-ready.service when
// the system has reached multi-user and sshd runs: the explicit readiness
// signal validation and VMs wait for.
const ReadyMarker = "KILN-READY"

// baseFiles are written into every Debian base: what a cloud image needs
// to boot anywhere (DHCP on any NIC, host keys made on first boot) and the
// readiness signal.
var baseFiles = map[string]string{
	"etc/hostname": "debian\n",
	"etc/hosts":    "127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n",
	"etc/systemd/network/90-kiln-dhcp.network": `[Match]
Name=en* eth*

[Network]
DHCP=yes
`,
	// The host keys are made at first boot (generalization removes them).
	// ed25519 and ECDSA take milliseconds and come before sshd; RSA takes
	// seconds (over ten under emulation), so it is made after sshd has
	// started, which then reloads to offer it too.
	"etc/systemd/system/kiln-ssh-hostkeys.service": `[Unit]
Description=Generate SSH host keys (ed25519, ECDSA) on first boot
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
ExecStart=/bin/sh -c '[ -e /etc/ssh/ssh_host_ecdsa_key ] || exec /usr/bin/ssh-keygen -q -t ecdsa -N "" -f /etc/ssh/ssh_host_ecdsa_key'

[Install]
WantedBy=multi-user.target
`,
	"etc/systemd/system/kiln-ssh-hostkey-rsa.service": `[Unit]
Description=Generate the SSH RSA host key on first boot, after sshd started
ConditionPathExists=!/etc/ssh/ssh_host_rsa_key
After=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -q -t rsa -b 3072 -N "" -f /etc/ssh/ssh_host_rsa_key
ExecStartPost=-/bin/systemctl reload --no-block ssh.service

[Install]
WantedBy=multi-user.target
`,
	"etc/systemd/system/kiln-ready.service": `[Unit]
Description=Tell the host on the serial console that the system is ready
After=ssh.service systemd-user-sessions.service
Wants=ssh.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "` + ReadyMarker + ` $(cat /proc/sys/kernel/random/boot_id)" > /dev/ttyS0'
StandardOutput=null

[Install]
WantedBy=multi-user.target
`,
}

// ConfigureTree turns a freshly bootstrapped root into a cloud-ready base.
func ConfigureTree(ctx context.Context, r hostexec.Runner, root string) error {
	for name, content := range baseFiles {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	_, err := r.Run(ctx, hostexec.Command{Name: "systemctl", Args: SystemctlEnableArgs(root,
		"systemd-networkd.service", "systemd-resolved.service", "kiln-ssh-hostkeys.service", "kiln-ssh-hostkey-rsa.service", "kiln-ready.service", "ssh.service")})
	if err != nil {
		return fmt.Errorf("enable base services: %w", err)
	}
	return nil
}

// SystemctlEnableArgs enables units offline in a root tree.
func SystemctlEnableArgs(root string, units ...string) []string {
	return append([]string{"--root=" + root, "--quiet", "enable"}, units...)
}

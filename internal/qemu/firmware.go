package qemu

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// firmwareCandidates lists UEFI firmware locations of common distributions,
// preferred first.
var firmwareCandidates = []Firmware{
	{Code: "/usr/share/OVMF/OVMF_CODE_4M.fd", Vars: "/usr/share/OVMF/OVMF_VARS_4M.fd"},
	{Code: "/usr/share/OVMF/OVMF_CODE.fd", Vars: "/usr/share/OVMF/OVMF_VARS.fd"},
	{Code: "/usr/share/edk2/ovmf/OVMF_CODE.fd", Vars: "/usr/share/edk2/ovmf/OVMF_VARS.fd"},
	{Code: "/usr/share/edk2/x64/OVMF_CODE.4m.fd", Vars: "/usr/share/edk2/x64/OVMF_VARS.4m.fd"},
	{Code: "/usr/share/edk2/x64/OVMF_CODE.fd", Vars: "/usr/share/edk2/x64/OVMF_VARS.fd"},
	{Code: "/usr/share/ovmf/OVMF.fd"},
	{Code: "/usr/share/qemu/OVMF.fd"},
}

// FindFirmware returns the first UEFI firmware found on the host.
func FindFirmware() (Firmware, error) {
	return findFirmware(firmwareCandidates, fileExists)
}

func findFirmware(cands []Firmware, exists func(string) bool) (Firmware, error) {
	var tried []string
	for _, c := range cands {
		tried = append(tried, c.Code)
		if exists(c.Code) && (c.Vars == "" || exists(c.Vars)) {
			return c, nil
		}
	}
	return Firmware{}, fmt.Errorf("no UEFI firmware (OVMF) found (looked for %s): install it with 'apt-get install ovmf'",
		strings.Join(tried, ", "))
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

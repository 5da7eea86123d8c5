package harden

import (
	"fmt"
	"strings"
)

// networkControls: CIS sections 3 (network modules and kernel parameters)
// and 4 (host firewall with nftables).
func networkControls() []Control {
	proto := func(p string) string {
		return fmt.Sprintf("%s is a rarely used transport protocol whose kernel code has had remotely "+
			"reachable vulnerabilities; a server that does not use it should not be able to load it.", p)
	}
	return []Control{
		kmodControl("kmod-dccp", "dccp", "3.2.1", "Disable the DCCP protocol module", proto("DCCP"), "CM-7"),
		kmodControl("kmod-tipc", "tipc", "3.2.2", "Disable the TIPC protocol module", proto("TIPC"), "CM-7"),
		kmodControl("kmod-rds", "rds", "3.2.3", "Disable the RDS protocol module", proto("RDS"), "CM-7"),
		kmodControl("kmod-sctp", "sctp", "3.2.4", "Disable the SCTP protocol module", proto("SCTP"), "CM-7"),
		sysctlControl("net-ip-forward", "3.3.1", "Disable IP forwarding",
			"A host that is not a router must not pass packets between interfaces; forwarding could bridge "+
				"networks that are meant to be separate.", []string{"CM-7", "SC-7"},
			"net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0"),
		sysctlControl("net-send-redirects", "3.3.2", "Do not send ICMP redirects",
			"Only routers send redirects; a host that sends them can be used to misroute other hosts' traffic.",
			[]string{"CM-7", "SC-7"}, "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0"),
		sysctlControl("net-icmp-bogus", "3.3.3", "Ignore bogus ICMP error responses",
			"Ignoring malformed ICMP error responses keeps the kernel log from filling with noise an attacker generates.",
			[]string{"CM-6", "SI-4"}, "net.ipv4.icmp_ignore_bogus_error_responses=1"),
		sysctlControl("net-icmp-broadcast", "3.3.4", "Ignore broadcast ICMP echo requests",
			"Answering broadcast pings makes the host an amplifier in smurf denial-of-service attacks.",
			[]string{"SC-5", "CM-6"}, "net.ipv4.icmp_echo_ignore_broadcasts=1"),
		sysctlControl("net-accept-redirects", "3.3.5", "Do not accept ICMP redirects",
			"Accepted redirects let anyone on the local network rewrite the host's routing table and intercept its traffic.",
			[]string{"CM-7", "SC-7"}, "net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.default.accept_redirects=0",
			"net.ipv6.conf.all.accept_redirects=0", "net.ipv6.conf.default.accept_redirects=0"),
		sysctlControl("net-secure-redirects", "3.3.6", "Do not accept secure ICMP redirects",
			"Secure redirects come from listed gateways, but a compromised or spoofed gateway can still misroute traffic.",
			[]string{"CM-7", "SC-7"}, "net.ipv4.conf.all.secure_redirects=0", "net.ipv4.conf.default.secure_redirects=0"),
		sysctlControl("net-rp-filter", "3.3.7", "Enable strict reverse path filtering",
			"Dropping packets whose source address could not be answered on the interface they came in on "+
				"defeats address spoofing from an attached network.",
			[]string{"SC-7", "SC-5"}, "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.default.rp_filter=1"),
		sysctlControl("net-source-route", "3.3.8", "Do not accept source-routed packets",
			"Source routing lets a sender choose the path of its packets, for example through the host into a "+
				"network that should not be reachable.", []string{"CM-7", "SC-7"},
			"net.ipv4.conf.all.accept_source_route=0", "net.ipv4.conf.default.accept_source_route=0",
			"net.ipv6.conf.all.accept_source_route=0", "net.ipv6.conf.default.accept_source_route=0"),
		sysctlControl("net-log-martians", "3.3.9", "Log packets with impossible addresses",
			"Logging martian packets records spoofing and misrouting attempts for investigation.",
			[]string{"AU-12", "SI-4"}, "net.ipv4.conf.all.log_martians=1", "net.ipv4.conf.default.log_martians=1"),
		sysctlControl("net-syn-cookies", "3.3.10", "Enable TCP SYN cookies",
			"SYN cookies keep the host accepting legitimate connections during a SYN flood.",
			[]string{"SC-5"}, "net.ipv4.tcp_syncookies=1"),
		sysctlControl("net-ipv6-ra", "3.3.11", "Do not accept IPv6 router advertisements",
			"Rogue router advertisements can redirect the host's IPv6 traffic; servers get static or "+
				"DHCPv6 configuration instead. Note: this disables IPv6 SLAAC.", []string{"CM-7", "SC-7"},
			"net.ipv6.conf.all.accept_ra=0", "net.ipv6.conf.default.accept_ra=0"),
		packagesAbsentControl("fw-single", "4.1.1, 4.3.2", "Use nftables as the only firewall utility",
			"Two firewall front ends (ufw, firewalld, iptables-persistent) overwrite each other's rules and "+
				"leave the effective policy unclear.", []string{"SC-7", "CM-7"}, "ufw", "firewalld", "iptables-persistent"),
		nftablesService(),
		nftablesRuleset(),
	}
}

func nftablesService() Control {
	return Control{
		ID: "fw-nftables-service", CIS: "4.3.1, 4.3.9", NIST: []string{"SC-7", "CM-6"},
		Title: "Install nftables and load its rules at boot",
		Rationale: "A host firewall filters traffic before it reaches services; the nftables service loads " +
			"/etc/nftables.conf at every boot, so the policy survives restarts.",
		Packages: []string{"nftables"},
		Apply:    "kiln_enable nftables.service",
		Audit: func(fsys Root, _ Params) Result {
			if r := auditInstalled(fsys, "nftables"); r.Status != StatusPass {
				return r
			}
			ok, ev := fsys.UnitEnabled("nftables.service")
			return verdict(ok, "%s", ev)
		},
		Runtime: "kiln_active nftables.service",
	}
}

// nftablesConf is the ruleset: inbound dropped except loopback, replies,
// ICMP, DHCP replies, SSH and the ports of the parameters; nothing
// forwarded; outbound allowed for new and related connections.
const nftablesHead = `#!/usr/sbin/nft -f
# Written by kiln (hardening profile, control fw-nftables-ruleset).
# Inbound: drop everything except loopback, replies, ICMP, DHCP replies and
# the services listed below. Nothing is forwarded.
flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		iif != "lo" ip saddr 127.0.0.0/8 counter drop
		iif != "lo" ip6 saddr ::1 counter drop
		ct state established,related accept
		ct state invalid counter drop
		meta l4proto icmp accept
		meta l4proto ipv6-icmp accept
		udp sport 67 udp dport 68 accept
		ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept
`

const nftablesTail = `	}

	chain forward {
		type filter hook forward priority filter; policy drop;
	}

	chain output {
		type filter hook output priority filter; policy drop;
		oif "lo" accept
		ct state established,related,new accept
		meta l4proto { icmp, ipv6-icmp } accept
	}
}
`

func nftablesRuleset() Control {
	return Control{
		ID: "fw-nftables-ruleset", CIS: "4.3.4, 4.3.5, 4.3.6, 4.3.7, 4.3.8, 4.3.10", NIST: []string{"SC-7", "SC-7(5)", "CM-7"},
		Title: "Drop inbound traffic except SSH, replies and listed ports",
		Rationale: "A default-deny inbound policy (deny by default, allow by exception) means a service " +
			"started by mistake or by an attacker is not reachable from the network. Loopback traffic is " +
			"accepted only on lo, so spoofed 127.0.0.0/8 packets are dropped.",
		Packages: []string{"nftables"},
		Apply: `tcp=22
for p in $KILN_PARAM_FIREWALL_ALLOW_TCP; do tcp="$tcp, $p"; done
udp=''
for p in $KILN_PARAM_FIREWALL_ALLOW_UDP; do udp="${udp:+$udp, }$p"; done
{
cat <<'KILN_EOF'
` + nftablesHead + `KILN_EOF
printf '\t\ttcp dport { %s } ct state new accept\n' "$tcp"
[ -z "$udp" ] || printf '\t\tudp dport { %s } ct state new accept\n' "$udp"
cat <<'KILN_EOF'
` + nftablesTail + `KILN_EOF
} | kiln_write /etc/nftables.conf 0755
if ! out=$(nft -c -f /etc/nftables.conf 2>&1); then
	case "$out" in
	*"syntax error"*) printf '%s\n' "$out" >&2; exit 1 ;;
	*) echo "note: nft -c could not check the ruleset in this environment: $out" ;;
	esac
fi
kiln_enable nftables.service`,
		Audit: auditNftables,
		Runtime: `rs=$(nft list ruleset 2>/dev/null)
[ -n "$rs" ] || { echo "fail no nftables ruleset is loaded"; exit 0; }
r=pass; ev=''
for h in input forward output; do
	if printf '%s\n' "$rs" | grep -q "hook $h .*policy drop"; then ev="$ev $h:drop"; else r=fail; ev="$ev $h:not-drop"; fi
done
if printf '%s\n' "$rs" | grep -Eq 'tcp dport (22|\{[^}]*\b22\b[^}]*\}) '; then ev="$ev tcp/22:accepted"; else r=fail; ev="$ev tcp/22:not-accepted"; fi
echo "$r nft list ruleset:$ev"`,
	}
}

func auditNftables(fsys Root, p Params) Result {
	data, err := fsys.ReadFile("/etc/nftables.conf")
	if err != nil {
		return fail("%v", err)
	}
	chains := nftChains(string(data))
	var problems, seen []string
	for _, hook := range []string{"input", "forward", "output"} {
		ch, ok := chainFor(chains, hook)
		switch {
		case !ok:
			problems = append(problems, "no base chain for hook "+hook)
		case ch.Policy != "drop":
			problems = append(problems, fmt.Sprintf("%s chain %s has policy %s", hook, ch.Name, ch.Policy))
		default:
			seen = append(seen, hook+" policy drop")
		}
	}
	if in, ok := chainFor(chains, "input"); ok {
		checks := []struct{ what, re string }{
			{"loopback accepted", `iif(name)? lo accept`},
			{"replies accepted", `ct state (\{ )?established(,| , )related( \})? accept`},
			{"ssh (tcp/22) accepted", `tcp dport (22|\{ [^}]*\b22\b[^}]*\}) (ct state new )?accept`},
		}
		for _, c := range checks {
			if matchRE(c.re, in.Body) {
				seen = append(seen, c.what)
			} else {
				problems = append(problems, "input chain: not "+c.what)
			}
		}
		for _, port := range p.List("firewallAllowTCP") {
			if !matchRE(`tcp dport [^;]*\b`+regexpQuote(port)+`\b`, in.Body) {
				problems = append(problems, "input chain: tcp port "+port+" (parameter firewallAllowTCP) not accepted")
			}
		}
	}
	if !strings.Contains(string(data), "flush ruleset") {
		problems = append(problems, "the file does not start from a clean ruleset (flush ruleset)")
	}
	if len(problems) > 0 {
		return fail("/etc/nftables.conf: %s", strings.Join(problems, "; "))
	}
	return pass("/etc/nftables.conf: %s", strings.Join(seen, "; "))
}

func chainFor(chains []nftChain, hook string) (nftChain, bool) {
	for _, c := range chains {
		if c.Hook == hook {
			return c, true
		}
	}
	return nftChain{}, false
}

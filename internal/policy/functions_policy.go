package policy

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/arm"
)

// DateTimeLayout is how Azure Policy writes times: utcNow() and addDays()
// return "yyyy-MM-ddTHH:mm:ss.fffffffZ".
const DateTimeLayout = "2006-01-02T15:04:05.0000000Z"

func policyFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "parameters", min: 1, max: 1, compile: compileParameters},
		{name: "field", min: 1, max: 1, compile: compileField},
		{name: "current", min: 0, max: 1, compile: compileCurrent},
		{name: "utcNow", min: 0, max: 1, dynamic: true, call: fnUtcNow},
		{name: "addDays", min: 2, max: 2, call: fnAddDays},
		{name: "requestContext", min: 0, max: 0, dynamic: true, call: fnRequestContext},
		{name: "policy", min: 0, max: 0, dynamic: true, call: fnPolicy},
		{name: "resourceGroup", min: 0, max: 0, dynamic: true, call: fnResourceGroup},
		{name: "subscription", min: 0, max: 0, dynamic: true, call: fnSubscription},
		{name: "ipRangeContains", min: 2, max: 2, call: fnIPRangeContains},
	}
}

func encodingFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "base64", min: 1, max: 1, call: strMap("base64", func(s string) string {
			return base64.StdEncoding.EncodeToString([]byte(s))
		})},
		{name: "base64ToString", min: 1, max: 1, call: fnBase64ToString},
		{name: "base64ToJson", min: 1, max: 1, call: func(st *evalState, a []any) (any, error) {
			s, err := fnBase64ToString(st, a)
			if err != nil {
				return nil, err
			}
			return fnJSON(st, []any{s})
		}},
		{name: "dataUri", min: 1, max: 1, call: strMap("dataUri", func(s string) string {
			return "data:text/plain;charset=utf8;base64," + base64.StdEncoding.EncodeToString([]byte(s))
		})},
		{name: "dataUriToString", min: 1, max: 1, call: fnDataURIToString},
		{name: "uri", min: 2, max: 2, call: fnURI},
		{name: "uriComponent", min: 1, max: 1, call: strMap("uriComponent", url.QueryEscape)},
		{name: "uriComponentToString", min: 1, max: 1, call: fnURIComponentToString},
		{name: "uniqueString", min: 1, max: -1, call: viaARM("uniqueString")},
		{name: "guid", min: 1, max: -1, call: viaARM("guid")},
	}
}

// evalContext returns the evaluation's context, failing for a static call.
func (st *evalState) context(fn string) (*EvalContext, error) {
	if st == nil || st.ctx == nil {
		return nil, fnErrorf(fn, "has no evaluation context here")
	}
	return st.ctx, nil
}

// fnUtcNow is the evaluation's time, in Azure's layout or a .NET format.
func fnUtcNow(st *evalState, args []any) (any, error) {
	ctx, err := st.context("utcNow")
	if err != nil {
		return nil, err
	}
	now := ctx.now()
	if len(args) == 0 {
		return now.Format(DateTimeLayout), nil
	}
	f, err := argStr("utcNow", args, 0)
	if err != nil {
		return nil, err
	}
	return formatDotNetTime(now, f)
}

// dotNetTokens are the .NET custom date format tokens utcNow accepts,
// longest first.
var dotNetTokens = []struct{ token, layout string }{
	{"yyyy", "2006"}, {"fffffff", "0000000"}, {"ffffff", "000000"}, {"fffff", "00000"}, {"ffff", "0000"},
	{"fff", "000"}, {"ff", "00"}, {"MMMM", "January"}, {"MMM", "Jan"}, {"dddd", "Monday"}, {"ddd", "Mon"},
	{"yy", "06"}, {"MM", "01"}, {"dd", "02"}, {"HH", "15"}, {"hh", "03"}, {"mm", "04"}, {"ss", "05"}, {"tt", "PM"},
	{"M", "1"}, {"d", "2"}, {"H", "15"}, {"h", "3"}, {"m", "4"}, {"s", "5"}, {"f", "0"},
}

// formatDotNetTime formats t with a .NET standard ("u", "s", "o", "d",
// "D", "t", "T", "g", "G") or custom format.
func formatDotNetTime(t time.Time, f string) (string, error) {
	standard := map[string]string{
		"u": "2006-01-02 15:04:05Z", "s": "2006-01-02T15:04:05", "o": DateTimeLayout, "O": DateTimeLayout,
		"d": "1/2/2006", "D": "Monday, 02 January 2006", "t": "15:04", "T": "15:04:05",
		"g": "1/2/2006 15:04", "G": "1/2/2006 15:04:05",
	}
	if layout, ok := standard[f]; ok {
		return t.Format(layout), nil
	}
	var layout strings.Builder
	for i := 0; i < len(f); {
		matched := false
		for _, tok := range dotNetTokens {
			if strings.HasPrefix(f[i:], tok.token) {
				layout.WriteString(tok.layout)
				i += len(tok.token)
				matched = true
				break
			}
		}
		if !matched {
			layout.WriteByte(f[i])
			i++
		}
	}
	return t.Format(layout.String()), nil
}

// parseTime reads the time formats policies use: RFC 3339 with up to nine
// fraction digits, with or without a zone (UTC when absent).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func fnAddDays(_ *evalState, args []any) (any, error) {
	s, err := argStr("addDays", args, 0)
	if err != nil {
		return nil, err
	}
	t, ok := parseTime(s)
	if !ok {
		return nil, fnErrorf("addDays", "cannot read %q as a date and time", s)
	}
	days, err := argInt("addDays", args, 1)
	if err != nil {
		return nil, err
	}
	if days > 3650000 || days < -3650000 {
		return nil, fnErrorf("addDays", "%d days is out of range", days)
	}
	return t.AddDate(0, 0, int(days)).Format(DateTimeLayout), nil
}

// fnRequestContext is {apiVersion, identity?}: the request's API version,
// or during a compliance scan the type's newest.
func fnRequestContext(st *evalState, _ []any) (any, error) {
	ctx, err := st.context("requestContext")
	if err != nil {
		return nil, err
	}
	out := map[string]any{"apiVersion": st.requestAPIVersion()}
	if ctx.Identity != nil {
		out["identity"] = ctx.Identity
	}
	return out, nil
}

func fnPolicy(st *evalState, _ []any) (any, error) {
	ctx, err := st.context("policy")
	if err != nil {
		return nil, err
	}
	p := ctx.Policy
	return map[string]any{
		"assignmentId": p.AssignmentID, "definitionId": p.DefinitionID,
		"setDefinitionId": p.SetDefinitionID, "definitionReferenceId": p.DefinitionReferenceID,
	}, nil
}

// fnResourceGroup is the context's resource group, else {id, name, type}
// from the resource's ID.
func fnResourceGroup(st *evalState, _ []any) (any, error) {
	ctx, err := st.context("resourceGroup")
	if err != nil {
		return nil, err
	}
	if ctx.ResourceGroup != nil {
		return ctx.ResourceGroup, nil
	}
	sub, rg := resourceGroupOf(st.ifResource().id())
	if rg == "" {
		return nil, fnErrorf("resourceGroup", "the resource is not in a resource group")
	}
	return map[string]any{
		"id":   "/subscriptions/" + sub + "/resourceGroups/" + rg,
		"name": rg, "type": TypeResourceGroup,
	}, nil
}

func fnSubscription(st *evalState, _ []any) (any, error) {
	ctx, err := st.context("subscription")
	if err != nil {
		return nil, err
	}
	if ctx.Subscription != nil {
		return ctx.Subscription, nil
	}
	sub, _ := resourceGroupOf(st.ifResource().id())
	if sub == "" {
		return nil, fnErrorf("subscription", "the resource is not in a subscription")
	}
	return map[string]any{"id": "/subscriptions/" + sub, "subscriptionId": sub, "displayName": sub}, nil
}

// fnIPRangeContains: a single address, a CIDR prefix or "a-b" range; an
// empty range or mixed address families fail the evaluation.
func fnIPRangeContains(_ *evalState, args []any) (any, error) {
	r, err := argStr("ipRangeContains", args, 0)
	if err != nil {
		return nil, err
	}
	t, err := argStr("ipRangeContains", args, 1)
	if err != nil {
		return nil, err
	}
	lo, hi, err := ipRange(r)
	if err != nil {
		return nil, fnErrorf("ipRangeContains", "range %q: %v", r, err)
	}
	tlo, thi, err := ipRange(t)
	if err != nil {
		return nil, fnErrorf("ipRangeContains", "target %q: %v", t, err)
	}
	if lo.Is4() != tlo.Is4() {
		return nil, fnErrorf("ipRangeContains", "cannot compare IPv4 with IPv6 (%q, %q)", r, t)
	}
	return lo.Compare(tlo) <= 0 && thi.Compare(hi) <= 0, nil
}

// ipRange reads an address, a prefix or "a-b" as its first and last address.
func ipRange(s string) (netip.Addr, netip.Addr, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return netip.Addr{}, netip.Addr{}, fmt.Errorf("empty")
	case strings.Contains(s, "/"):
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, netip.Addr{}, err
		}
		p = p.Masked()
		return p.Addr(), lastAddr(p), nil
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		lo, err1 := netip.ParseAddr(strings.TrimSpace(a))
		hi, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err1 != nil || err2 != nil || lo.Is4() != hi.Is4() || hi.Less(lo) {
			return netip.Addr{}, netip.Addr{}, fmt.Errorf("not a valid address range")
		}
		return lo, hi, nil
	}
	a, err := netip.ParseAddr(s)
	return a, a, err
}

// lastAddr is the last address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func fnBase64ToString(_ *evalState, args []any) (any, error) {
	s, err := argStr("base64ToString", args, 0)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fnErrorf("base64ToString", "invalid base64: %v", err)
	}
	return string(b), nil
}

func fnDataURIToString(_ *evalState, args []any) (any, error) {
	s, err := argStr("dataUriToString", args, 0)
	if err != nil {
		return nil, err
	}
	meta, data, ok := strings.Cut(strings.TrimPrefix(s, "data:"), ",")
	if !ok || !strings.HasPrefix(s, "data:") {
		return nil, fnErrorf("dataUriToString", "not a data URI")
	}
	if strings.HasSuffix(meta, ";base64") {
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, fnErrorf("dataUriToString", "invalid base64: %v", err)
		}
		return string(b), nil
	}
	out, err := url.PathUnescape(data)
	if err != nil {
		return nil, fnErrorf("dataUriToString", "%v", err)
	}
	return out, nil
}

func fnURI(_ *evalState, args []any) (any, error) {
	base, err := argStr("uri", args, 0)
	if err != nil {
		return nil, err
	}
	rel, err := argStr("uri", args, 1)
	if err != nil {
		return nil, err
	}
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() {
		return nil, fnErrorf("uri", "%q is not an absolute URI", base)
	}
	r, err := url.Parse(rel)
	if err != nil {
		return nil, fnErrorf("uri", "%q is not a URI: %v", rel, err)
	}
	return b.ResolveReference(r).String(), nil
}

func fnURIComponentToString(_ *evalState, args []any) (any, error) {
	s, err := argStr("uriComponentToString", args, 0)
	if err != nil {
		return nil, err
	}
	out, err := url.QueryUnescape(s)
	if err != nil {
		return nil, fnErrorf("uriComponentToString", "%v", err)
	}
	return out, nil
}

// viaARM computes uniqueString and guid with internal/arm, so that a
// policy and a deployment template agree on their values.
func viaARM(name string) func(*evalState, []any) (any, error) {
	return func(_ *evalState, args []any) (any, error) {
		quoted := make([]string, len(args))
		for i := range args {
			s, err := argStr(name, args, i)
			if err != nil {
				return nil, err
			}
			quoted[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
		}
		expr := "[" + name + "(" + strings.Join(quoted, ", ") + ")]"
		v, err := arm.NewEvaluator(arm.DeploymentContext{}, nil, nil).Eval("", expr)
		if err != nil {
			return nil, fnErrorf(name, "%v", err)
		}
		return v, nil
	}
}

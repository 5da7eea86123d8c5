package harden

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Params are a plan's parameter values, each already of its declared type:
// string, int, bool or []string.
type Params map[string]any

// String returns a string parameter ("" when unset or of another type).
func (p Params) String(name string) string {
	s, _ := p[name].(string)
	return s
}

// Int returns an int parameter (0 when unset or of another type).
func (p Params) Int(name string) int {
	i, _ := p[name].(int)
	return i
}

// Bool returns a bool parameter.
func (p Params) Bool(name string) bool {
	b, _ := p[name].(bool)
	return b
}

// List returns a []string parameter.
func (p Params) List(name string) []string {
	l, _ := p[name].([]string)
	return slices.Clone(l)
}

// EnvName is the environment variable that carries a parameter into the
// Apply and Runtime scripts: sshPermitRootLogin -> KILN_PARAM_SSH_PERMIT_ROOT_LOGIN.
func EnvName(param string) string {
	var b strings.Builder
	b.WriteString("KILN_PARAM_")
	rs := []rune(param)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])) {
			b.WriteByte('_')
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// envValue renders a parameter value for the environment.
func envValue(v any) string {
	switch x := v.(type) {
	case []string:
		return strings.Join(x, " ")
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// convertParam converts a decoded value (JSON numbers arrive as float64 or
// json.Number, YAML ones as int) to the spec's type.
func convertParam(spec ParamSpec, v any) (any, error) {
	var out any
	var err error
	switch spec.Type {
	case TypeString:
		out, err = toString(v)
	case TypeInt:
		out, err = toInt(v)
	case TypeBool:
		out, err = toBool(v)
	case TypeStrings:
		out, err = toStrings(v)
	default:
		return nil, fmt.Errorf("parameter has unknown type %q", spec.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("want %s, %w", spec.Type, err)
	}
	if spec.check != nil {
		if err := spec.check(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "got null"
	case string:
		return fmt.Sprintf("got string %q", x)
	case bool:
		return fmt.Sprintf("got bool %t", x)
	case float64, float32, int, int64, int32, uint, uint64, json.Number:
		return fmt.Sprintf("got number %v", x)
	case []any, []string:
		return "got a list"
	case map[string]any:
		return "got an object"
	}
	return fmt.Sprintf("got %T", v)
}

func toString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("%s", describe(v))
}

func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return intFromFloat(float64(x))
	case int32:
		return int(x), nil
	case uint64:
		return intFromFloat(float64(x))
	case float64:
		return intFromFloat(x)
	case json.Number:
		i, err := strconv.ParseInt(x.String(), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("got number %s, which is not a whole number in range", x)
		}
		return int(i), nil
	}
	return 0, fmt.Errorf("%s", describe(v))
}

func intFromFloat(f float64) (int, error) {
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("got number %v, which is not a whole number in range", f)
	}
	return int(f), nil
}

func toBool(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("%s", describe(v))
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return slices.Clone(x), nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("item %d: %s", i, describe(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s", describe(v))
}

// Validators used by the built-in parameter specs.

func intRange(lo, hi int) func(any) error {
	return func(v any) error {
		if i := v.(int); i < lo || i > hi {
			return fmt.Errorf("%d is out of range %d..%d", i, lo, hi)
		}
		return nil
	}
}

func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		if !slices.Contains(allowed, v.(string)) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return nil
	}
}

var (
	nameRE  = regexp.MustCompile(`^[a-z_][a-z0-9_.-]*[$]?$`)
	portRE  = regexp.MustCompile(`^([0-9]{1,5})(-([0-9]{1,5}))?$`)
	umaskRE = regexp.MustCompile(`^0?[0-7]{3}$`)
)

// accountNames checks user and group names as Debian's adduser allows them,
// so they cannot inject anything into sshd_config or cron.allow.
func accountNames(v any) error {
	for _, n := range v.([]string) {
		if len(n) > 32 || !nameRE.MatchString(n) {
			return fmt.Errorf("%q is not a valid user or group name", n)
		}
	}
	return nil
}

// ports checks port numbers and ranges ("443", "8000-8010").
func ports(v any) error {
	for _, p := range v.([]string) {
		m := portRE.FindStringSubmatch(p)
		if m == nil {
			return fmt.Errorf("%q is not a port or port range (e.g. \"443\" or \"8000-8010\")", p)
		}
		lo, _ := strconv.Atoi(m[1])
		hi := lo
		if m[3] != "" {
			hi, _ = strconv.Atoi(m[3])
		}
		if lo < 1 || hi > 65535 || hi < lo {
			return fmt.Errorf("%q is not a port range within 1-65535", p)
		}
	}
	return nil
}

// bannerText refuses banners that would leak the OS version through getty
// escapes, as CIS 1.6.2 asks, and control characters other than newlines.
func bannerText(v any) error {
	s := v.(string)
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("the banner must not be empty")
	}
	for _, esc := range []string{`\m`, `\r`, `\s`, `\v`} {
		if strings.Contains(s, esc) {
			return fmt.Errorf("the banner must not contain the getty escape %s (it reveals OS details)", esc)
		}
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return fmt.Errorf("the banner contains control character %U", r)
		}
	}
	return nil
}

func umaskValue(v any) error {
	s := v.(string)
	if !umaskRE.MatchString(s) {
		return fmt.Errorf("%q is not an octal umask such as \"027\"", s)
	}
	m, _ := strconv.ParseUint(s, 8, 32)
	if m&0o027 != 0o027 {
		return fmt.Errorf("umask %s is weaker than 027 (group write, other read/write/execute must be masked)", s)
	}
	return nil
}

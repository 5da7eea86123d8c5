package gallery

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error of the package wraps one of them so that the
// API can map it to an HTTP status in one place; callers test them with
// errors.Is.
var (
	// ErrInvalid: a name, version or property is not acceptable (400).
	ErrInvalid = errors.New("invalid gallery resource")
	// ErrImmutable: an update changes a property that cannot change (400).
	ErrImmutable = errors.New("property cannot change")
	// ErrConflict: the request conflicts with existing resources (409).
	ErrConflict = errors.New("conflict")
	// ErrLimitExceeded: a gallery limit would be exceeded (409).
	ErrLimitExceeded = errors.New("gallery limit exceeded")
	// ErrNoLatest: no version qualifies as latest (404).
	ErrNoLatest = errors.New("no latest image version")
	// ErrDeletionBlocked: the safety profile or nested resources forbid the deletion (409).
	ErrDeletionBlocked = errors.New("deletion blocked")
	// ErrNotFound: a version named in a request is not among those given (404).
	ErrNotFound = errors.New("image version not found")
	// ErrState: the version's state does not allow the operation (409).
	ErrState = errors.New("invalid state for the operation")
)

// FieldError is one problem with one property, located by its JSON path
// inside the resource (for example "properties.identifier.publisher").
type FieldError struct {
	Path    string
	Message string
	Hint    string
	// Kind is the error wrapped: a sentinel (ErrInvalid, ErrImmutable, ...)
	// or an error that wraps one, such as a *LimitError.
	Kind error
}

func (e *FieldError) Error() string {
	var sb strings.Builder
	if e.Path != "" {
		sb.WriteString(e.Path + ": ")
	}
	sb.WriteString(e.Message)
	if e.Hint != "" {
		sb.WriteString(" (" + e.Hint + ")")
	}
	return sb.String()
}

// Unwrap returns the sentinel kind.
func (e *FieldError) Unwrap() error { return e.Kind }

// Errors is every problem found at once, in property order.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As see each FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// add appends a FieldError of kind ErrInvalid.
func (es *Errors) add(path, msg, hint string) {
	*es = append(*es, &FieldError{Path: path, Message: msg, Hint: hint, Kind: ErrInvalid})
}

// addErr appends err located at path: the paths of FieldErrors inside it
// are taken as relative to path.
func (es *Errors) addErr(path string, err error) {
	if err == nil {
		return
	}
	var nested Errors
	if errors.As(err, &nested) {
		for _, fe := range nested {
			es.addErr(path, fe)
		}
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		*es = append(*es, &FieldError{Path: path, Message: err.Error(), Kind: err})
		return
	}
	located := *fe
	located.Path = joinPath(path, fe.Path)
	*es = append(*es, &located)
}

func joinPath(base, rel string) string {
	switch {
	case base == "":
		return rel
	case rel == "":
		return base
	}
	return base + "." + rel
}

// err returns nil for no errors, so that callers never return a typed nil.
func (es Errors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

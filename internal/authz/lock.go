package authz

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kiln-dev/kiln/internal/jsonpath"
)

// LockLevel is the level of a management lock.
type LockLevel string

// Lock levels, as Azure names them, least restrictive first.
const (
	// LockCanNotDelete blocks deletes; reads and changes go through.
	LockCanNotDelete LockLevel = "CanNotDelete"
	// LockReadOnly blocks every control-plane call that is not a read:
	// PUT, PATCH, DELETE and POST (run/action, listKeys/action, ...).
	LockReadOnly LockLevel = "ReadOnly"
)

// LockType is the ARM resource type of locks.
const LockType = "Microsoft.Authorization/locks"

// restrictiveness orders levels: the most restrictive lock wins.
func (l LockLevel) restrictiveness() int {
	if l == LockReadOnly {
		return 2
	}
	return 1
}

// ParseLockLevel reads a level, ignoring case, into its canonical spelling.
func ParseLockLevel(s string) (LockLevel, error) {
	for _, l := range []LockLevel{LockCanNotDelete, LockReadOnly} {
		if strings.EqualFold(s, string(l)) {
			return l, nil
		}
	}
	return "", fmt.Errorf("lock level %q is neither %q nor %q", s, LockCanNotDelete, LockReadOnly)
}

// Lock is a management lock (Microsoft.Authorization/locks) on a
// subscription, a resource group or a resource. It applies to everything
// below its scope, including resources created later, and it binds every
// principal, Owners included: it is checked after, and regardless of,
// RBAC.
type Lock struct {
	Name  string    `json:"name"`
	Scope string    `json:"scope"` // the locked subscription, group or resource
	Level LockLevel `json:"level"`
	Notes string    `json:"notes,omitempty"`
}

// ID is the lock's resource ID: {scope}/providers/Microsoft.Authorization/locks/{name}.
func (l Lock) ID() string {
	return strings.TrimSuffix(l.Scope, "/") + "/providers/" + LockType + "/" + l.Name
}

// ScopeLockedError is Azure's ScopeLocked (HTTP 409): a lock blocks the
// operation, whatever the caller's roles.
type ScopeLockedError struct {
	Action string
	Scope  string
	// Locks are the locks that block the operation, the most restrictive
	// first, then from the top of the hierarchy down. There is at least one.
	Locks []Lock
}

func (e *ScopeLockedError) Error() string {
	if len(e.Locks) == 0 {
		return fmt.Sprintf("ScopeLocked: the scope '%s' cannot perform %s operation because it is locked", e.Scope, lockedOperation(e.Action))
	}
	ids := make([]string, len(e.Locks))
	for i, l := range e.Locks {
		ids[i] = fmt.Sprintf("'%s' (%s)", l.ID(), l.Level)
	}
	return fmt.Sprintf("ScopeLocked: the scope '%s' cannot perform %s operation because the following scope(s) are locked: %s; "+
		"remove the lock and try again (kiln lock delete --ids %s)",
		e.Scope, lockedOperation(e.Action), strings.Join(ids, ", "), e.Locks[0].ID())
}

// lockedOperation names the operation as Azure's message does.
func lockedOperation(action string) string {
	if classifyForLocks(lowerASCII(action)) == opDelete {
		return "delete"
	}
	return "write"
}

// lockOp is what an action does, as far as locks care.
type lockOp int

const (
	opRead   lockOp = iota // GET: never blocked
	opExempt               // managing the locks themselves, cancelling a subscription
	opWrite                // PUT, PATCH and POST actions: blocked by ReadOnly
	opDelete               // DELETE: blocked by any lock, here, above or below
)

// classifyForLocks sorts a lower-cased concrete action. Anything that is
// not recognisably a read counts as a write, so that unknown verbs fail
// closed.
func classifyForLocks(action string) lockOp {
	switch {
	// Azure lets locks be added and removed under other locks (else a
	// ReadOnly lock could never be lifted), and exempts subscription
	// cancellation from locks.
	case strings.HasPrefix(action, "microsoft.authorization/locks/"),
		action == "microsoft.subscription/cancel/action":
		return opExempt
	case strings.HasSuffix(action, "/read"):
		return opRead
	case strings.HasSuffix(action, "/delete"):
		return opDelete
	default:
		return opWrite
	}
}

// blocks reports whether a lock of this level at or above the target
// blocks op.
func (l LockLevel) blocks(op lockOp) bool {
	switch op {
	case opDelete:
		return true
	case opWrite:
		return l == LockReadOnly
	default:
		return false
	}
}

// LockSet is an immutable, indexed set of locks.
type LockSet struct {
	byKey map[string][]Lock // by scope key
	keys  []string          // sorted scope keys, for finding locks below a scope
}

// NewLockSet validates and indexes locks: each needs a name, a known level
// and a subscription, group or resource scope; names are unique per scope.
func NewLockSet(locks []Lock) (*LockSet, error) {
	s := &LockSet{byKey: map[string][]Lock{}}
	var problems problemList
	for i, l := range locks {
		path := jsonpath.Index("locks", i)
		key, ok := checkLock(&l, path, &problems)
		if !ok {
			continue
		}
		if slices.ContainsFunc(s.byKey[key], func(o Lock) bool { return strings.EqualFold(o.Name, l.Name) }) {
			problems.add(jsonpath.Key(path, "name"), "choose another name", "a lock named %q already exists at %s", l.Name, l.Scope)
			continue
		}
		s.byKey[key] = append(s.byKey[key], l)
	}
	if err := problems.err(); err != nil {
		return nil, err
	}
	for k := range s.byKey {
		s.keys = append(s.keys, k)
	}
	slices.Sort(s.keys)
	return s, nil
}

// checkLock validates one lock and canonicalizes its level; it returns the
// lock's scope key.
func checkLock(l *Lock, path string, problems *problemList) (string, bool) {
	ok := true
	if l.Name == "" || strings.Contains(l.Name, "/") {
		problems.add(jsonpath.Key(path, "name"), "", "lock name %q must be non-empty and hold no \"/\"", l.Name)
		ok = false
	}
	level, err := ParseLockLevel(string(l.Level))
	if err != nil {
		problems.add(jsonpath.Key(path, "level"), "", "%v", err)
		ok = false
	}
	l.Level = level
	key, _ := scopeKey(l.Scope)
	if err := checkScope(l.Scope); err != nil {
		problems.add(jsonpath.Key(path, "scope"), "", "%v", err)
		return key, false
	}
	if !strings.HasPrefix(key, "/subscriptions/") {
		problems.add(jsonpath.Key(path, "scope"), "lock a subscription, a resource group or a resource",
			"locks cannot be placed at %q", l.Scope)
		ok = false
	}
	return key, ok
}

// CheckLocks is LockSet.Check over a plain list of locks.
func CheckLocks(locks []Lock, action, scope string) error {
	s, err := NewLockSet(locks)
	if err != nil {
		return err
	}
	return s.Check(action, scope)
}

// Check returns a *ScopeLockedError when a lock blocks the control-plane
// action at scope, else nil. Locks never block reads, the management of
// locks themselves, or data actions (do not call Check for those).
func (s *LockSet) Check(action, scope string) error {
	if blocking := s.Blocking(action, scope); len(blocking) > 0 {
		return &ScopeLockedError{Action: action, Scope: scope, Locks: blocking}
	}
	return nil
}

// Blocking lists the locks that block action at scope, the most
// restrictive first:
//   - any lock at or above the scope blocks a delete, and so does any
//     lock below it, since a delete takes everything below with it
//     (Azure deletes a locked group's resources all or nothing);
//   - a ReadOnly lock at or above the scope blocks every other
//     non-read action, POST actions included.
func (s *LockSet) Blocking(action, scope string) []Lock {
	key, ok := scopeKey(scope)
	if !ok {
		return nil
	}
	return s.blocking(lowerASCII(action), key)
}

// blocking is Blocking for a lower-cased action and a scope key.
func (s *LockSet) blocking(action, key string) []Lock {
	if s == nil || len(s.keys) == 0 {
		return nil
	}
	op := classifyForLocks(action)
	if op == opRead || op == opExempt {
		return nil
	}
	var out []Lock
	for k := range ancestorKeys(key) {
		for _, l := range s.byKey[k] {
			if l.Level.blocks(op) {
				out = append(out, l)
			}
		}
	}
	if op == opDelete {
		out = append(out, s.below(key)...)
	}
	sortLocks(out)
	return out
}

// below lists the locks strictly below the scope with the given key: the
// sorted keys that start with key + "/" form one run.
func (s *LockSet) below(key string) []Lock {
	var out []Lock
	prefix := key + "/"
	start, _ := slices.BinarySearch(s.keys, prefix)
	for _, k := range s.keys[start:] {
		if !strings.HasPrefix(k, prefix) {
			break
		}
		out = append(out, s.byKey[k]...)
	}
	return out
}

// sortLocks puts the most restrictive first, then the highest in the
// hierarchy, then by name.
func sortLocks(locks []Lock) {
	slices.SortStableFunc(locks, func(a, b Lock) int {
		if c := cmp.Compare(b.Level.restrictiveness(), a.Level.restrictiveness()); c != 0 {
			return c
		}
		ka, _ := scopeKey(a.Scope)
		kb, _ := scopeKey(b.Scope)
		if c := cmp.Compare(depth(ka), depth(kb)); c != 0 {
			return c
		}
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
}

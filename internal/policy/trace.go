package policy

import (
	"fmt"
	"strings"
)

// TraceStep is one condition (or allOf, anyOf, not, count) the evaluation
// went through, with the values it saw. Steps are in evaluation order;
// conditions skipped by short-circuiting are absent.
type TraceStep struct {
	Path      string `json:"path"`                // JSON path in the definition: "policyRule.if.allOf[1]"
	Kind      string `json:"kind"`                // allOf, anyOf, not, field, value, count, applicability
	Condition string `json:"condition,omitempty"` // the condition as written
	Left      any    `json:"left,omitempty"`      // the value the field, value or count had
	Missing   bool   `json:"missing,omitempty"`   // the field does not exist
	Right     any    `json:"right,omitempty"`     // the operator's value
	Result    bool   `json:"result"`
	// Decisive marks the steps that decided the outcome: every child of a
	// true allOf or false anyOf, only the last child of a false allOf or a
	// true anyOf.
	Decisive bool   `json:"decisive"`
	Error    string `json:"error,omitempty"`
}

// String describes the step in one line.
func (s TraceStep) String() string {
	var sb strings.Builder
	sb.WriteString(s.Condition)
	if s.Condition == "" {
		sb.WriteString(s.Kind)
	}
	switch {
	case s.Error != "":
		sb.WriteString(" failed: " + s.Error)
		return sb.String()
	case s.Missing:
		sb.WriteString(" (the field does not exist)")
	case s.Kind == "field" || s.Kind == "value" || s.Kind == "count":
		fmt.Fprintf(&sb, " (value %s", display(s.Left))
		if right := display(s.Right); s.Right != nil && !strings.Contains(s.Condition, right) {
			fmt.Fprintf(&sb, ", compared with %s", right) // the operator's value was an expression
		}
		sb.WriteString(")")
	}
	fmt.Fprintf(&sb, " is %t", s.Result)
	return sb.String()
}

// tracer collects steps; a nil tracer records nothing.
type tracer struct {
	steps []TraceStep
}

// open appends a step for a node about to be evaluated and returns its
// index, -1 when tracing is off.
func (t *tracer) open(path, kind, cond string) int {
	if t == nil {
		return -1
	}
	t.steps = append(t.steps, TraceStep{Path: path, Kind: kind, Condition: cond, Decisive: true})
	return len(t.steps) - 1
}

// size is the number of steps so far.
func (t *tracer) size() int {
	if t == nil {
		return 0
	}
	return len(t.steps)
}

// close records a node's outcome.
func (t *tracer) close(i int, result bool, err error) {
	if t == nil || i < 0 {
		return
	}
	t.steps[i].Result = result
	if err != nil {
		t.steps[i].Error = err.Error()
	}
}

// undecide marks steps [from, to) as not decisive: the children of a
// logical node that did not decide it.
func (t *tracer) undecide(from, to int) {
	if t == nil {
		return
	}
	for i := from; i < to; i++ {
		t.steps[i].Decisive = false
	}
}

// values records what a condition saw.
func (t *tracer) values(i int, left, right any) {
	if t == nil || i < 0 {
		return
	}
	if isMissing(left) {
		t.steps[i].Missing = true
	} else {
		t.steps[i].Left = printable(left)
	}
	t.steps[i].Right = printable(right)
}

// printable replaces missing values inside arrays by null for output.
func printable(v any) any {
	switch v := v.(type) {
	case missingValue:
		return nil
	case []any:
		for _, x := range v {
			if isMissing(x) {
				out := make([]any, len(v))
				for i, y := range v {
					out[i] = printable(y)
				}
				return out
			}
		}
	}
	return v
}

// reasons describes the decisive conditions (leaves) of a trace.
func reasons(steps []TraceStep) []string {
	var out []string
	for _, s := range steps {
		if !s.Decisive || s.Kind == "allOf" || s.Kind == "anyOf" || s.Kind == "not" {
			continue
		}
		out = append(out, s.String())
	}
	return out
}

// Package suggest finds the name a user probably meant: the "did you mean"
// of every parser of user input (template fields, ARM functions, profile
// and control IDs, role definition keys).
package suggest

import "strings"

// Nearest returns the candidate closest to name: a case-insensitive match
// first, else the nearest by edit distance when it is close enough to be a
// typo (at most a third of the name's length, and at least 2, edits); ""
// when none is.
func Nearest(name string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
	}
	best, bestDist := "", max(2, len(name)/3)+1
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if d := Distance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean is the hint for a misspelt name (`did you mean "x"?`), or ""
// when no candidate is close.
func DidYouMean(name string, candidates []string) string {
	if s := Nearest(name, candidates); s != "" {
		return `did you mean "` + s + `"?`
	}
	return ""
}

// Distance is the Levenshtein distance of a and b, counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev, cur := make([]int, len(rb)+1), make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

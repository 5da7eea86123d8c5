package gallery

import (
	"fmt"
	"unicode/utf8"
)

// A nameRule is one of Azure's naming rules for gallery resources.
type nameRule struct {
	what    string // "gallery name", ...
	maxLen  int
	allowed func(c byte) bool
	// alnumStart requires a letter or digit first; alnumEnd last.
	alnumStart, alnumEnd bool
	// badEnd are characters the name may not end with.
	badEnd string
	// summary states the whole rule for error messages.
	summary string
}

var (
	galleryNameRule = nameRule{
		what: "gallery name", maxLen: 80, allowed: isGalleryChar,
		alnumStart: true, alnumEnd: true,
		summary: "gallery names are 1-80 English letters, digits, underscores and periods, start and end with a letter or digit, and contain no dashes",
	}
	definitionNameRule = nameRule{
		what: "image definition name", maxLen: 80, allowed: isDefinitionChar,
		alnumStart: true, badEnd: "-.",
		summary: "image definition names are 1-80 English letters, digits, underscores, hyphens and periods, start with a letter or digit and do not end with a hyphen or period",
	}
	publisherRule = identifierRule("publisher", 128)
	offerRule     = identifierRule("offer", 64)
	skuRule       = identifierRule("sku", 64)
)

func identifierRule(what string, maxLen int) nameRule {
	return nameRule{
		what: what, maxLen: maxLen, allowed: isDefinitionChar, badEnd: ".",
		summary: fmt.Sprintf("a %s is 1-%d English letters, digits, hyphens, underscores and periods and does not end with a period", what, maxLen),
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isGalleryChar(c byte) bool    { return isAlnum(c) || c == '_' || c == '.' }
func isDefinitionChar(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == '-' }

// ValidateGalleryName checks a gallery name against Azure's rules.
func ValidateGalleryName(name string) error { return galleryNameRule.check(name) }

// ValidateDefinitionName checks an image definition name against Azure's
// rules (^[^_\W][\w-._]{0,79}(?<![-.])$ with ASCII letters).
func ValidateDefinitionName(name string) error { return definitionNameRule.check(name) }

// ValidatePublisher checks a definition's identifier.publisher.
func ValidatePublisher(s string) error { return publisherRule.check(s) }

// ValidateOffer checks a definition's identifier.offer.
func ValidateOffer(s string) error { return offerRule.check(s) }

// ValidateSku checks a definition's identifier.sku.
func ValidateSku(s string) error { return skuRule.check(s) }

func (r nameRule) check(name string) error {
	if reason := r.violation(name); reason != "" {
		return &FieldError{
			Message: fmt.Sprintf("invalid %s %q: %s", r.what, name, reason),
			Hint:    r.summary,
			Kind:    ErrInvalid,
		}
	}
	return nil
}

// violation names the first rule the name breaks, or "" when it is valid.
func (r nameRule) violation(name string) string {
	switch n := len(name); {
	case n == 0:
		return "it is empty"
	case n > r.maxLen:
		return fmt.Sprintf("it is %d characters long, the maximum is %d", n, r.maxLen)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !r.allowed(c) {
			return fmt.Sprintf("character %s at position %d is not allowed", describeChar(name[i:]), i+1)
		}
	}
	first, last := name[0], name[len(name)-1]
	switch {
	case r.alnumStart && !isAlnum(first):
		return fmt.Sprintf("it starts with %q; it must start with a letter or digit", first)
	case r.alnumEnd && !isAlnum(last):
		return fmt.Sprintf("it ends with %q; it must end with a letter or digit", last)
	case r.badEnd != "" && containsByte(r.badEnd, last):
		return fmt.Sprintf("it must not end with %q", last)
	}
	return ""
}

// describeChar quotes the (possibly multi-byte) character at the start of s.
func describeChar(s string) string {
	c, _ := utf8.DecodeRuneInString(s)
	if c == utf8.RuneError {
		return fmt.Sprintf("byte 0x%02x", s[0])
	}
	return fmt.Sprintf("%q", c)
}

func containsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

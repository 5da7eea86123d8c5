package gallery

import (
	"errors"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name     string
		validate func(string) error
		in       string
		wantErr  string // substring; "" for valid
	}{
		{"gallery simple", ValidateGalleryName, "myGallery", ""},
		{"gallery underscore and period inside", ValidateGalleryName, "my_gallery.v2", ""},
		{"gallery one char", ValidateGalleryName, "g", ""},
		{"gallery 80 chars", ValidateGalleryName, long(80), ""},
		{"gallery 81 chars", ValidateGalleryName, long(81), "81 characters long, the maximum is 80"},
		{"gallery empty", ValidateGalleryName, "", "it is empty"},
		{"gallery dash", ValidateGalleryName, "my-gallery", `character '-' at position 3 is not allowed`},
		{"gallery starts with period", ValidateGalleryName, ".gallery", "must start with a letter or digit"},
		{"gallery ends with period", ValidateGalleryName, "gallery.", "must end with a letter or digit"},
		{"gallery starts with underscore", ValidateGalleryName, "_gallery", "must start with a letter or digit"},
		{"gallery space", ValidateGalleryName, "my gallery", `character ' ' at position 3`},
		{"gallery non-ASCII", ValidateGalleryName, "galería", `character 'í'`},

		{"definition simple", ValidateDefinitionName, "debian12-cis", ""},
		{"definition all chars", ValidateDefinitionName, "a_b.c-d9", ""},
		{"definition ends with underscore", ValidateDefinitionName, "def_", ""},
		{"definition 81 chars", ValidateDefinitionName, long(81), "maximum is 80"},
		{"definition starts with dash", ValidateDefinitionName, "-def", "must start with a letter or digit"},
		{"definition starts with underscore", ValidateDefinitionName, "_def", "must start with a letter or digit"},
		{"definition ends with dash", ValidateDefinitionName, "def-", `must not end with '-'`},
		{"definition ends with period", ValidateDefinitionName, "def.", `must not end with '.'`},
		{"definition slash", ValidateDefinitionName, "a/b", `character '/'`},

		{"publisher", ValidatePublisher, "Contoso-IT_1.0", ""},
		{"publisher 128", ValidatePublisher, long(128), ""},
		{"publisher 129", ValidatePublisher, long(129), "maximum is 128"},
		{"publisher empty", ValidatePublisher, "", "it is empty"},
		{"publisher ends with period", ValidatePublisher, "contoso.", `must not end with '.'`},
		{"offer 65", ValidateOffer, long(65), "maximum is 64"},
		{"offer space", ValidateOffer, "debian 12", `character ' '`},
		{"sku", ValidateSku, "12-gen2", ""},
		{"sku starts with dash", ValidateSku, "-gen2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.validate(tt.in)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestNameErrorStatesTheRule(t *testing.T) {
	err := ValidateGalleryName("my-gallery")
	want := `invalid gallery name "my-gallery": character '-' at position 3 is not allowed (gallery names are 1-80 English letters, digits, underscores and periods, start and end with a letter or digit, and contain no dashes)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

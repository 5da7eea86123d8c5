// Package fetch gets the files templates reference (scripts, files, disk
// images): a path relative to the template, file://, or http(s):// with
// retries, checking an optional sha256.
package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/blob"
)

// ChecksumError is a downloaded file whose sha256 is not the expected one.
type ChecksumError struct {
	URI, Expected, Actual string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("sha256 checksum mismatch for %s: the template expects %s but the file has %s; fix sha256Checksum (sha256sum FILE) or the file", e.URI, e.Expected, e.Actual)
}

// Fetcher gets scriptUri/sourceUri files: a path relative to the template,
// file://, or http(s):// (retried), verifying an optional sha256.
type Fetcher struct {
	TemplateDir string
	Dir         string // where downloads go
	Client      *http.Client
	n           int
}

// Fetch copies uri into f.Dir and returns the local path and its sha256.
func (f *Fetcher) Fetch(ctx context.Context, uri, wantSHA string) (string, string, error) {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return "", "", err
	}
	f.n++
	dst := filepath.Join(f.Dir, fmt.Sprintf("%03d-%s", f.n, safeBase(uri)))
	var err error
	switch u, perr := url.Parse(uri); {
	case perr == nil && (u.Scheme == "http" || u.Scheme == "https"):
		err = f.download(ctx, uri, dst)
	case perr == nil && u.Scheme == "file":
		err = copyLocal(u.Path, dst)
	case perr == nil && u.Scheme != "" && len(u.Scheme) > 1:
		err = fmt.Errorf("unsupported URI scheme %q in %s: use a path relative to the template, file:// or http(s)://", u.Scheme, uri)
	default:
		p := uri
		if !filepath.IsAbs(p) {
			p = filepath.Join(f.TemplateDir, p)
		}
		err = copyLocal(p, dst)
	}
	if err != nil {
		return "", "", err
	}
	sum, err := FileSHA256(dst)
	if err != nil {
		return "", "", err
	}
	if wantSHA != "" && !strings.EqualFold(wantSHA, sum) {
		return "", "", &ChecksumError{URI: uri, Expected: strings.ToLower(wantSHA), Actual: sum}
	}
	return dst, sum, nil
}

func safeBase(uri string) string {
	b := filepath.Base(strings.SplitN(uri, "?", 2)[0])
	if b == "." || b == "/" || b == "" {
		return "download"
	}
	return b
}

func copyLocal(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("open %s: %w (paths are relative to the template's directory)", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (f *Fetcher) download(ctx context.Context, uri, dst string) error {
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	var last error
	for attempt := 1; attempt <= 3; attempt++ {
		if last = fetchOnce(ctx, client, uri, dst); last == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
	return fmt.Errorf("download %s failed after 3 attempts: %w", uri, last)
}

func fetchOnce(ctx context.Context, client *http.Client, uri, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// FileSHA256 hashes a file.
func FileSHA256(path string) (string, error) { return blob.FileSHA256(path) }

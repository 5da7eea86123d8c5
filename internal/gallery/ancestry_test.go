package gallery

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// Ancestry fixture: base → app → hardened, across three definitions.
var (
	base100 = VersionID("sub", "rg", "g", "base", "1.0.0")
	base110 = VersionID("sub", "rg", "g", "base", "1.1.0")
	app100  = VersionID("sub", "rg", "g", "app", "1.0.0")
	app110  = VersionID("sub", "rg", "g", "app", "1.1.0")
	hard100 = VersionID("sub", "rg", "g", "hardened", "1.0.0")
)

func family(opts map[string][]vopt) []ImageVersion {
	mk := func(def, name string, more ...vopt) ImageVersion {
		return defVer(def, name, append(more, opts[VersionID("sub", "rg", "g", def, name)]...)...)
	}
	return []ImageVersion{
		mk("base", "1.0.0"),
		mk("base", "1.1.0"),
		mk("base", "1.2.0", softDeleted(at(-1), at(6))),
		mk("base", "2.0.0", revoked(at(-1))),
		mk("app", "1.0.0", parent(base100)),
		mk("app", "1.1.0", parent(base110)),
		mk("hardened", "1.0.0", parent(strings.ToUpper(app100))), // IDs compare case-insensitively
	}
}

func ids(vs []ImageVersion) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func TestDescendantsAndAncestors(t *testing.T) {
	vs := family(nil)
	d, err := Descendants(vs, base100)
	if err != nil || !slices.Equal(ids(d), []string{app100, hard100}) {
		t.Fatalf("Descendants = %v, %v", ids(d), err)
	}
	a, err := Ancestors(vs, hard100)
	if err != nil || !slices.Equal(ids(a), []string{app100, base100}) {
		t.Fatalf("Ancestors = %v, %v", ids(a), err)
	}
	if _, err := Descendants(vs, VersionID("sub", "rg", "g", "nope", "1.0.0")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown ID: %v", err)
	}
	cycle := []ImageVersion{defVer("x", "1.0.0", parent(VersionID("sub", "rg", "g", "y", "1.0.0"))), defVer("y", "1.0.0", parent(VersionID("sub", "rg", "g", "x", "1.0.0")))}
	if d, err := Descendants(cycle, cycle[0].ID); err != nil || len(d) != 1 {
		t.Errorf("cycle: %v, %v", ids(d), err)
	}
}

func TestCheckAncestry(t *testing.T) {
	tests := []struct {
		name   string
		opts   map[string][]vopt
		of     string
		status AncestryStatus
		newer  string
		reason string
	}{
		{name: "parent superseded", of: app100, status: Outdated, newer: base110, reason: "newer version 1.1.0 than the parent 1.0.0"},
		{name: "revoked and deleted newer versions do not count", of: app110, status: UpToDate},
		{name: "a scheduled revocation is not in force yet", of: app110, status: Outdated,
			opts:  map[string][]vopt{VersionID("sub", "rg", "g", "base", "2.0.0"): {revoked(at(1))}},
			newer: VersionID("sub", "rg", "g", "base", "2.0.0")},
		{name: "no parent", of: base100, status: Undetermined, reason: "no parent version is recorded"},
		{name: "parent ID matched case-insensitively", of: hard100, status: Outdated, newer: app110},
		{name: "parent gone", of: app100, status: Undetermined, reason: "not in the gallery",
			opts: map[string][]vopt{app100: {parent(VersionID("sub", "rg", "g", "base", "0.1.0"))}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := family(tt.opts)
			v, ok := findVersion(vs, tt.of)
			if !ok {
				t.Fatal("fixture")
			}
			got := CheckAncestry(v, vs, t0)
			if got.Status != tt.status || got.Newer != tt.newer || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("CheckAncestry = %+v; want status %s newer %q reason %q", got, tt.status, tt.newer, tt.reason)
			}
		})
	}
}

func TestCheckAncestryParentRevoked(t *testing.T) {
	vs := family(map[string][]vopt{base110: {revoked(at(-1))}})
	v, _ := findVersion(vs, app110)
	got := CheckAncestry(v, vs, t0)
	if !got.ParentRevoked || got.Status != UpToDate {
		t.Fatalf("got %+v", got)
	}
}

func TestRevoke(t *testing.T) {
	t.Run("cascade", func(t *testing.T) {
		changed, err := Revoke(family(nil), base100, t0, "CVE-2025-1", true, t0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(changed), []string{base100, app100, hard100}) {
			t.Fatalf("changed %v", ids(changed))
		}
		if r := changed[0].Properties.Revocation; r.CascadedFrom != "" || r.Reason != "CVE-2025-1" || !r.RevokedAt.Equal(t0) {
			t.Errorf("target revocation %+v", r)
		}
		if r := changed[2].Properties.Revocation; r.CascadedFrom != base100 || !strings.Contains(r.Reason, "inherited from 1.0.0: CVE-2025-1") {
			t.Errorf("inherited revocation %+v", r)
		}
	})
	t.Run("no cascade", func(t *testing.T) {
		changed, err := Revoke(family(nil), base100, t0, "r", false, t0)
		if err != nil || len(changed) != 1 {
			t.Fatalf("%v %v", ids(changed), err)
		}
	})
	t.Run("explicit revocation of a descendant wins", func(t *testing.T) {
		vs := family(map[string][]vopt{app100: {revoked(at(5))}})
		changed, _ := Revoke(vs, base100, at(1), "r", true, t0)
		if !slices.Equal(ids(changed), []string{base100, hard100}) {
			t.Fatalf("changed %v", ids(changed))
		}
	})
	t.Run("earliest inherited revocation wins", func(t *testing.T) {
		later := func(v *ImageVersion) {
			v.Properties.Revocation = &Revocation{RevokedAt: at(10), CascadedFrom: app100}
		}
		earlier := func(v *ImageVersion) {
			v.Properties.Revocation = &Revocation{RevokedAt: at(1), CascadedFrom: app100}
		}
		changed, _ := Revoke(family(map[string][]vopt{hard100: {later}}), base100, at(5), "r", true, t0)
		if len(changed) != 3 || !changed[2].Properties.Revocation.RevokedAt.Equal(at(5)) {
			t.Errorf("an earlier revocation must replace a later inherited one: %v", ids(changed))
		}
		changed, _ = Revoke(family(map[string][]vopt{hard100: {earlier}}), base100, at(5), "r", true, t0)
		if len(changed) != 2 {
			t.Errorf("a later revocation must not replace an earlier inherited one: %v", ids(changed))
		}
	})
	t.Run("scheduled then rescheduled", func(t *testing.T) {
		vs := family(map[string][]vopt{base100: {revoked(at(3))}})
		changed, err := Revoke(vs, base100, at(1), "sooner", false, t0)
		if err != nil || !changed[0].Properties.Revocation.RevokedAt.Equal(at(1)) {
			t.Fatalf("%v %v", changed, err)
		}
	})
	t.Run("never backdated", func(t *testing.T) {
		changed, _ := Revoke(family(nil), base100, at(-3), "r", false, t0)
		if !changed[0].Properties.Revocation.RevokedAt.Equal(t0) {
			t.Errorf("revokedAt %v", changed[0].Properties.Revocation.RevokedAt)
		}
	})
	t.Run("already revoked", func(t *testing.T) {
		_, err := Revoke(family(nil), VersionID("sub", "rg", "g", "base", "2.0.0"), t0, "r", true, t0)
		if !errors.Is(err, ErrState) {
			t.Errorf("got %v", err)
		}
	})
}

func TestRestore(t *testing.T) {
	revokedFamily := func(extra map[string][]vopt) []ImageVersion {
		vs := family(extra)
		changed, err := Revoke(vs, base100, t0, "r", true, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changed {
			for i := range vs {
				if vs[i].ID == c.ID {
					vs[i] = c
				}
			}
		}
		return vs
	}
	t.Run("restores inherited revocations", func(t *testing.T) {
		changed, err := Restore(revokedFamily(nil), base100, t0.Add(time.Hour))
		if err != nil || !slices.Equal(ids(changed), []string{base100, app100, hard100}) {
			t.Fatalf("%v %v", ids(changed), err)
		}
		for _, c := range changed {
			if c.Properties.Revocation != nil {
				t.Errorf("%s still revoked", c.ID)
			}
		}
	})
	t.Run("keeps explicit descendant revocations", func(t *testing.T) {
		vs := revokedFamily(map[string][]vopt{hard100: {revoked(at(9))}})
		changed, err := Restore(vs, base100, t0)
		if err != nil || !slices.Equal(ids(changed), []string{base100, app100}) {
			t.Fatalf("%v %v", ids(changed), err)
		}
	})
	t.Run("inherited revocation is restored at its source", func(t *testing.T) {
		_, err := Restore(revokedFamily(nil), app100, t0)
		if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "inherited from "+base100) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not while an ancestor is revoked", func(t *testing.T) {
		vs := family(map[string][]vopt{base100: {revoked(at(-1))}, app100: {revoked(at(-1))}})
		_, err := Restore(vs, app100, t0)
		if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "ancestor "+base100) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not revoked", func(t *testing.T) {
		if _, err := Restore(family(nil), base110, t0); !errors.Is(err, ErrState) {
			t.Fatalf("got %v", err)
		}
	})
}

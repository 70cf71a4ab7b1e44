package version

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201-abcdef"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	withInfo := func() (*debug.BuildInfo, bool) { return bi, true }
	without := func() (*debug.BuildInfo, bool) { return nil, false }
	tests := []struct {
		name                string
		version, commit     string
		read                func() (*debug.BuildInfo, bool)
		wantVersion, wantCm string
	}{
		{"stamped wins", "v1.2.0-3-g4f1c2e9-dirty", "4f1c2e9aa", withInfo, "v1.2.0-3-g4f1c2e9-dirty", "4f1c2e9aa"},
		{"build info fills the gaps", "", "", withInfo, "v0.0.0-20261201-abcdef", "abcdef0123-dirty"},
		{"stamped version, commit from build info", "v1.0.0", "", withInfo, "v1.0.0", "abcdef0123-dirty"},
		{"nothing known", "", "", without, "(devel)", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.version, tt.commit, tt.read)
			if got.Version != tt.wantVersion || got.Commit != tt.wantCm || got.GoVersion == "" {
				t.Errorf("got %+v, want version %q commit %q and a Go version", got, tt.wantVersion, tt.wantCm)
			}
		})
	}
	if got := resolve("", "", withInfo).GoVersion; got != "go1.26.8" {
		t.Errorf("GoVersion %q, want the build info's go1.26.8", got)
	}
	if got, want := (Info{Version: "v1", Commit: "c1", GoVersion: "go1.26.8"}).String(), "v1 (commit c1, go1.26.8)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// Package version tells which build of matchd's commands is running: the
// version and commit that `make build` stamps into the binary with -ldflags
// -X, else what the Go toolchain recorded in its build info (a module
// version for `go install`, the VCS revision for a build in a checkout).
// Operators need it to know what runs where; the matchd_build_info metric
// carries the same values.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at link time by `make build`:
//
//	-ldflags "-X github.com/matchd/matchd/cmd/internal/version.version=$(git describe --always --dirty)
//	          -X github.com/matchd/matchd/cmd/internal/version.commit=$(git rev-parse HEAD)"
var (
	version string
	commit  string
)

// Info is one build's identity.
type Info struct {
	// Version is the stamped version, else the module version from the
	// build info ("(devel)" for a plain go build without VCS data).
	Version string
	// Commit is the stamped commit, else the VCS revision recorded by the
	// Go toolchain (with "-dirty" when the tree had changes), else "unknown".
	Commit string
	// GoVersion is the toolchain that built the binary (go1.26.8).
	GoVersion string
}

// Get returns this binary's Info.
func Get() Info {
	return resolve(version, commit, readBuildInfo)
}

var readBuildInfo = debug.ReadBuildInfo

// resolve prefers the stamped values and fills the rest from the build
// info; it is separate from Get so tests can feed it any build info.
func resolve(stampedVersion, stampedCommit string, read func() (*debug.BuildInfo, bool)) Info {
	i := Info{Version: stampedVersion, Commit: stampedCommit, GoVersion: runtime.Version()}
	bi, ok := read()
	if ok {
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		if i.Version == "" {
			i.Version = bi.Main.Version
		}
		if i.Commit == "" {
			var rev string
			var modified bool
			for _, s := range bi.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value == "true"
				}
			}
			if rev != "" && modified {
				rev += "-dirty"
			}
			i.Commit = rev
		}
	}
	if i.Version == "" {
		i.Version = "(devel)"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// String is the line the commands print for --version:
// "matchd v1.2.0 (commit 4f1c2e9..., go1.26.8)" after the command's name.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}

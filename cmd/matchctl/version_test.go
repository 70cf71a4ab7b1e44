package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// TestVersion: --version answers without a node to talk to.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--version"}, func(string) string { return "" }, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if !regexp.MustCompile(`^matchctl \S+ \(commit \S+, go[0-9.]+\S*\)\n$`).MatchString(out.String()) {
		t.Errorf("got %q, want \"matchctl VERSION (commit C, goX)\"", out.String())
	}
}

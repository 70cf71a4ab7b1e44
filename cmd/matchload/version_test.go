package main

import (
	"io"
	"testing"
)

// TestVersionFlag: --version is recognised and asks for no run.
func TestVersionFlag(t *testing.T) {
	o, err := ParseOptions([]string{"--version"}, io.Discard)
	if err != nil || !o.Version {
		t.Errorf("ParseOptions(--version) = Version %v, %v; want true, nil", o.Version, err)
	}
}

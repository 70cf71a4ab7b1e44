package actors

import (
	"io"
	"os"
)

// testLogOut is where test nodes log: nowhere, unless ACTORS_TEST_LOG is
// set (then stderr), for debugging a failing test.
func testLogOut(w io.Writer) io.Writer {
	if os.Getenv("ACTORS_TEST_LOG") != "" {
		return os.Stderr
	}
	return w
}

package actors

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any goroutine outlives its tests: every
// node a test starts is stopped by its cleanup, and a stopped node leaves
// nothing running (workers, timers' goroutines, the session host, the bus).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

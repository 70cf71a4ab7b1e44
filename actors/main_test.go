package actors

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any goroutine outlives its tests: every
// node a test starts is stopped by its cleanup, and a stopped node leaves
// nothing running (workers, the session host, the bus, timers). The one
// exception is protoactor's dead-letter log throttle, a goroutine that
// ends by itself one throttle interval (1s) after the last dead letter.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/asynkron/protoactor-go/actor.NewDeadLetter.NewThrottle.func4.1"))
}

package redisx_test

import (
	"testing"
	"time"

	"github.com/matchd/matchd/redisx"
)

func TestLock(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, c *redisx.Client) {
		t.Run("fence_grows_with_each_fresh_acquisition", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "fence"
			var last int64
			for i, tok := range []string{"a", "b", "a"} {
				f, err := c.AcquireLock(ctx, mode, tok, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 && f <= 0 {
					t.Fatalf("first acquisition: got fence %d, want > 0", f)
				}
				if i > 0 && f != last+1 {
					t.Fatalf("acquisition %d by %s: got fence %d, want %d", i+1, tok, f, last+1)
				}
				last = f
				if ok, err := c.ReleaseLock(ctx, mode, tok); err != nil || !ok {
					t.Fatalf("ReleaseLock(%s): got %v, %v; want true", tok, ok, err)
				}
			}
			if got, _ := get(t, c, c.Keys.Fence(mode)); got != itoa(last) {
				t.Errorf("fence key: got %q, want %q", got, itoa(last))
			}
			if ttl := pttl(t, c, c.Keys.Fence(mode)); ttl != -1 {
				t.Errorf("fence key PTTL: got %d, want -1 (it never expires)", ttl)
			}
		})

		t.Run("busy_for_a_second_owner", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "busy"
			f, _ := c.AcquireLock(ctx, mode, "a", 10*time.Second)
			got, err := c.AcquireLock(ctx, mode, "b", 10*time.Second)
			if err != nil || got != 0 {
				t.Fatalf("AcquireLock by b while a holds it: got %d, %v; want 0", got, err)
			}
			if own, _ := get(t, c, c.Keys.Lock(mode)); own != "a" {
				t.Errorf("lock owner: got %q, want a", own)
			}
			if fence, _ := get(t, c, c.Keys.Fence(mode)); fence != itoa(f) {
				t.Errorf("fence after a refused acquisition: got %s, want %d", fence, f)
			}
		})

		t.Run("reacquire_by_owner_keeps_fence_and_renews", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "reacq"
			f, _ := c.AcquireLock(ctx, mode, "a", time.Second)
			got, err := c.AcquireLock(ctx, mode, "a", time.Minute)
			if err != nil || got != f {
				t.Fatalf("re-acquire by owner: got %d, %v; want the same fence %d", got, err, f)
			}
			if ttl := pttl(t, c, c.Keys.Lock(mode)); ttl <= 1000 || ttl > 60_000 {
				t.Errorf("PTTL after re-acquire with 1m: got %d, want in (1000, 60000]", ttl)
			}
		})

		t.Run("extend_only_by_owner", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "extend"
			if _, err := c.AcquireLock(ctx, mode, "a", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if ok, err := c.ExtendLock(ctx, mode, "a", time.Minute); err != nil || !ok {
				t.Fatalf("ExtendLock by owner: got %v, %v; want true", ok, err)
			}
			if ttl := pttl(t, c, c.Keys.Lock(mode)); ttl <= 10_000 || ttl > 60_000 {
				t.Errorf("PTTL after extend to 1m: got %d, want in (10000, 60000]", ttl)
			}
			if ok, err := c.ExtendLock(ctx, mode, "b", time.Hour); err != nil || ok {
				t.Fatalf("ExtendLock by non-owner: got %v, %v; want false", ok, err)
			}
			if ttl := pttl(t, c, c.Keys.Lock(mode)); ttl > 60_000 {
				t.Errorf("PTTL after a non-owner's extend: got %d, want <= 60000 (unchanged)", ttl)
			}
			if own, _ := get(t, c, c.Keys.Lock(mode)); own != "a" {
				t.Errorf("owner after a non-owner's extend: got %q, want a", own)
			}
			// A lease that does not exist cannot be extended into existence.
			if ok, _ := c.ExtendLock(ctx, "nolock", "a", time.Minute); ok {
				t.Errorf("ExtendLock of a missing lease: got true, want false")
			}
			if exists(t, c, c.Keys.Lock("nolock")) {
				t.Errorf("ExtendLock of a missing lease created the key")
			}
		})

		t.Run("release_only_by_owner", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "release"
			if _, err := c.AcquireLock(ctx, mode, "a", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if ok, err := c.ReleaseLock(ctx, mode, "b"); err != nil || ok {
				t.Fatalf("ReleaseLock by non-owner: got %v, %v; want false", ok, err)
			}
			if own, _ := get(t, c, c.Keys.Lock(mode)); own != "a" {
				t.Fatalf("owner after a non-owner's release: got %q, want a", own)
			}
			if ok, err := c.ReleaseLock(ctx, mode, "a"); err != nil || !ok {
				t.Fatalf("ReleaseLock by owner: got %v, %v; want true", ok, err)
			}
			if exists(t, c, c.Keys.Lock(mode)) {
				t.Errorf("lease key exists after release")
			}
			if ok, _ := c.ReleaseLock(ctx, mode, "a"); ok {
				t.Errorf("second ReleaseLock: got true, want false")
			}
		})

		t.Run("expired_lease_goes_to_the_next_owner_with_a_higher_fence", func(t *testing.T) {
			t.Parallel()
			ctx, mode := t.Context(), "expiry"
			f, err := c.AcquireLock(ctx, mode, "a", 150*time.Millisecond)
			if err != nil || f <= 0 {
				t.Fatalf("AcquireLock: got %d, %v", f, err)
			}
			if got, _ := c.AcquireLock(ctx, mode, "b", time.Minute); got != 0 {
				t.Fatalf("AcquireLock by b before expiry: got %d, want 0", got)
			}
			waitGone(t, c, c.Keys.Lock(mode))
			if ok, _ := c.ExtendLock(ctx, mode, "a", time.Minute); ok {
				t.Fatalf("ExtendLock by the expired owner: got true, want false")
			}
			got, err := c.AcquireLock(ctx, mode, "b", time.Minute)
			if err != nil || got <= f {
				t.Fatalf("AcquireLock by b after expiry: got %d, %v; want > %d", got, err, f)
			}
			if ok, _ := c.ReleaseLock(ctx, mode, "a"); ok {
				t.Errorf("ReleaseLock by the expired owner: got true, want false")
			}
			if own, _ := get(t, c, c.Keys.Lock(mode)); own != "b" {
				t.Errorf("owner: got %q, want b", own)
			}
		})
	})
}

package redisx

import "github.com/redis/rueidis"

// unpooled keeps a command built with a batch's arguments (hundreds or
// thousands of keys or fields) out of rueidis's pool of command slices.
// Every command of the process draws its slice from that one pool and
// gives it back after use with its capacity, so a batch's slice, once
// pooled, is handed to later commands and kept; as batches reach more of
// the pool's slices, the pool grows to that size: on an idle node of
// 19,000 sessions the reconcile's reads grew the live heap ~1.8 MiB a
// minute so. A pinned command is dropped after use instead, which costs
// the batch one allocation.
func unpooled(c rueidis.Completed) rueidis.Completed { return c.Pin() }

package redisx

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"slices"

	"github.com/redis/rueidis"
)

// Read is a read prepared to share a round trip with others (DoTogether):
// its commands, and how it takes its replies.
type Read struct {
	cmds  rueidis.Commands
	parse func([]rueidis.RedisResult) error
	// again runs the read alone; set for a script call, which fails with
	// NOSCRIPT after Redis lost its script cache and then goes through EVAL.
	again func(context.Context) []rueidis.RedisResult
}

// DoTogether sends the commands of reads in one pipelined batch, so
// independent reads cost one round trip instead of one each, then hands each
// read its replies. A nil read is skipped. It returns the first error; every
// read has been parsed or has failed by then.
func (c *Client) DoTogether(ctx context.Context, reads ...*Read) error {
	reads = slices.DeleteFunc(reads, func(r *Read) bool { return r == nil })
	var all rueidis.Commands
	for _, r := range reads {
		all = append(all, r.cmds...)
	}
	if len(all) == 0 {
		return nil
	}
	res := c.R.DoMulti(ctx, all...)
	var first error
	for _, r := range reads {
		mine := res[:len(r.cmds)]
		res = res[len(r.cmds):]
		if r.again != nil && noScript(mine) {
			mine = r.again(ctx)
		}
		if err := r.parse(mine); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func noScript(res []rueidis.RedisResult) bool {
	for _, r := range res {
		if e, ok := rueidis.IsRedisErr(r.Error()); ok && e.IsNoScript() {
			return true
		}
	}
	return false
}

// shaOf is the EVALSHA name of a script's source.
func shaOf(src string) string {
	sum := sha1.Sum([]byte(src))
	return hex.EncodeToString(sum[:])
}

// scriptRead is a read made of one script call.
func (c *Client) scriptRead(s *rueidis.Lua, sha string, keys, args []string, parse func(rueidis.RedisResult) error) *Read {
	return &Read{
		cmds:  rueidis.Commands{c.R.B().Evalsha().Sha1(sha).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build()},
		parse: func(r []rueidis.RedisResult) error { return parse(r[0]) },
		again: func(ctx context.Context) []rueidis.RedisResult {
			return []rueidis.RedisResult{s.Exec(ctx, c.R, keys, args)}
		},
	}
}

package redisx

import (
	"context"
	"strconv"

	"github.com/redis/rueidis"
)

// AppendEvent adds one state event to the capped events stream as field
// "data" (docs/protocol.md section 10.4).
func (c *Client) AppendEvent(ctx context.Context, data []byte, maxLen int64) error {
	return c.R.Do(ctx, c.R.B().Xadd().Key(c.Keys.Events()).Maxlen().Almost().Threshold(strconv.FormatInt(maxLen, 10)).
		Id("*").FieldValue().FieldValue("data", rueidis.BinaryString(data)).Build()).Error()
}

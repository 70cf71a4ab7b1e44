package config

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
)

// redactedMark replaces a secret that is set; an unset secret stays "" so the
// output still shows whether one was configured.
const redactedMark = "***"

// Redacted returns a deep copy with admin.token, auth.hmac_secret and
// redis.password replaced by "***" when set, so the configuration can be
// printed, logged or served on /debug/config without leaking credentials.
func (c Config) Redacted() Config {
	r := c.clone()
	for _, s := range []*string{&r.Admin.Token, &r.Auth.HMACSecret, &r.Redis.Password} {
		if *s != "" {
			*s = redactedMark
		}
	}
	return r
}

// JSON renders the redacted configuration as indented JSON in the key order
// and units of the YAML file (durations as "100ms", not nanoseconds), for
// --print-config and /debug/config. Like json.MarshalIndent it has no
// trailing newline. The output is valid YAML too, so it can seed a config
// file.
func (c Config) JSON() ([]byte, error) {
	r := c.Redacted()
	b, err := appendJSON(nil, reflect.ValueOf(r))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// clone returns a copy that shares no slice with c, so a copy handed to one
// component cannot be changed through another.
func (c Config) clone() Config {
	c.Server.OriginPatterns = slices.Clone(c.Server.OriginPatterns)
	c.Redis.Addrs = slices.Clone(c.Redis.Addrs)
	c.Matchmaking.Modes = slices.Clone(c.Matchmaking.Modes)
	c.Matchmaking.HomeRegions = slices.Clone(c.Matchmaking.HomeRegions)
	for i := range c.Matchmaking.Modes {
		c.Matchmaking.Modes[i].Regions = slices.Clone(c.Matchmaking.Modes[i].Regions)
	}
	c.Sanctions.Ladder = slices.Clone(c.Sanctions.Ladder)
	c.Allocator.Servers = slices.Clone(c.Allocator.Servers)
	c.Debug.DropBus = slices.Clone(c.Debug.DropBus)
	return c
}

package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// EnvPrefix starts every environment variable that sets a key, so that
// deployment scripts and docs can refer to one constant.
const EnvPrefix = "MATCHD_"

// ErrHelp is returned by Load when the arguments ask for -h/--help, so the
// command can print Usage() and exit 0 instead of reporting a failure.
var ErrHelp = pflag.ErrHelp

// Options are what the command line asked of the process itself rather than
// of the configuration; the command acts on them after Load.
type Options struct {
	// ConfigFile is the --config path ("" when none); Reload reads it again.
	ConfigFile string
	// PrintConfig asks the command to print the effective (redacted)
	// configuration and exit.
	PrintConfig bool
	// Version asks the command to print its version and exit; Load then
	// returns without reading or validating any configuration.
	Version bool
	// IgnoredEnv lists MATCHD_* variables that name no key, sorted. They are
	// not an error (Kubernetes injects MATCHD_PORT and the like for a service
	// called matchd), but a misspelt one (MATCHD_REDIS_ADDRS for
	// MATCHD_REDIS__ADDRS) is otherwise invisible, so the command should
	// log them.
	IgnoredEnv []string
}

// flagKeys maps each config-setting flag to the key it sets. Only a few
// common keys have flags; everything else is set by file or environment.
var flagKeys = map[string]string{
	"node-id":     "node_id",
	"server.addr": "server.addr",
	"admin.addr":  "admin.addr",
	"redis.mode":  "redis.mode",
	"redis.addrs": "redis.addrs",
	"log.level":   "log.level",
}

// newFlagSet builds the command-line flags; opts receives --config and
// --print-config.
func newFlagSet(opts *Options) *pflag.FlagSet {
	d := Default()
	fs := pflag.NewFlagSet("matchd", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVar(&opts.ConfigFile, "config", "", "YAML configuration `file`")
	fs.BoolVar(&opts.PrintConfig, "print-config", false, "print the effective configuration (secrets redacted) as JSON and exit")
	fs.BoolVar(&opts.Version, "version", false, "print the version, commit and Go version and exit")
	fs.String("node-id", "", "node name (key node_id; default hostname-pid)")
	fs.String("server.addr", d.Server.Addr, "client WebSocket listener `host:port`")
	fs.String("admin.addr", d.Admin.Addr, "admin listener `host:port`")
	fs.String("redis.mode", d.Redis.Mode, "embedded, standalone, sentinel or cluster")
	fs.StringSlice("redis.addrs", nil, "Redis `host:port` list, comma-separated or repeated")
	fs.String("log.level", d.Log.Level, "debug, info, warn or error")
	return fs
}

// Usage returns the flag help text, for -h/--help and for argument errors.
func Usage() string {
	var o Options
	return "Usage: matchd [flags]\n\n" + newFlagSet(&o).FlagUsages() +
		"\nEvery key can also be set in the --config file or as " + EnvPrefix +
		"<KEY> in the environment,\nwith __ between levels: MATCHD_REDIS__ADDRS=a:6379,b:6379.\n" +
		"Later sources win: defaults, file, environment, flags.\n"
}

// Load builds the effective configuration from, in increasing precedence,
// Default(), the YAML file named by --config, MATCHD_* variables in environ
// and the flags in args that were explicitly set, and validates it. args
// excludes the program name (os.Args[1:]); environ is usually os.Environ(),
// passed in so that tests and Reload are hermetic. An empty node_id becomes
// hostname-pid. A key absent from the file keeps its default; a key given
// with an empty (null) value in the file counts as absent.
func Load(args, environ []string) (Config, Options, error) {
	var opts Options
	fs := newFlagSet(&opts)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return Config{}, opts, ErrHelp
		}
		return Config{}, opts, fmt.Errorf("config: flags: %w", err)
	}
	if fs.NArg() > 0 {
		return Config{}, opts, fmt.Errorf("config: flags: unexpected argument %q", fs.Arg(0))
	}
	if opts.Version {
		// A version check must work whatever the configuration says.
		return Config{}, opts, nil
	}

	// A fresh instance every time: reusing one would keep keys that were
	// deleted from the file since the last load.
	k := koanf.New(".")
	if err := k.Load(mapProvider(plain(reflect.ValueOf(Default())).(map[string]any)), nil); err != nil {
		return Config{}, opts, fmt.Errorf("config: defaults: %w", err)
	}
	// Problems with keys (unknown in the file, unsettable from the
	// environment) and with values are collected and reported together, so
	// that one attempt shows every mistake.
	var errs []error
	if opts.ConfigFile != "" {
		m, keyErrs, err := readFile(opts.ConfigFile)
		if err != nil {
			return Config{}, opts, err
		}
		errs = append(errs, keyErrs...)
		if err := k.Load(mapProvider(m), nil); err != nil {
			return Config{}, opts, fmt.Errorf("config: %s: %w", opts.ConfigFile, err)
		}
	}
	ignored, envErrs, err := loadEnv(k, environ)
	if err != nil {
		return Config{}, opts, err
	}
	opts.IgnoredEnv = ignored
	errs = append(errs, envErrs...)
	fp := posflag.ProviderWithFlag(fs, ".", nil, func(f *pflag.Flag) (string, any) {
		key, ok := flagKeys[f.Name]
		if !ok || !f.Changed {
			return "", nil
		}
		return key, posflag.FlagVal(fs, f)
	})
	if err := k.Load(fp, nil); err != nil {
		return Config{}, opts, fmt.Errorf("config: flags: %w", err)
	}

	c, decodeErrs := decode(k)
	if errs = append(errs, decodeErrs...); len(errs) > 0 {
		// Not validated: fields that failed to decode are zero and would
		// only add misleading complaints.
		return Config{}, opts, errors.Join(errs...)
	}
	if c.NodeID == "" {
		c.NodeID = defaultNodeID()
	}
	if err := c.Validate(); err != nil {
		return Config{}, opts, err
	}
	return c, opts, nil
}

// mapProvider feeds an already-built map to koanf.
type mapProvider map[string]any

// Read hands koanf the map as is; koanf needs no parser for it.
func (m mapProvider) Read() (map[string]any, error) { return m, nil }

// ReadBytes exists only to satisfy koanf.Provider: Load never passes a parser
// with a mapProvider.
func (m mapProvider) ReadBytes() ([]byte, error) {
	return nil, errors.New("config: mapProvider has no bytes")
}

// readFile parses the YAML file at path, reports its unknown keys and gives
// each mode the per-field defaults it omits. Modes are filled here, on the
// map, rather than after decoding, so that an explicit "team_size: 0" still
// reaches Validate instead of silently becoming 1. err is for a file that
// cannot be read or parsed at all.
func readFile(path string) (m map[string]any, keyErrs []error, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	raw, err := parseYAML(b)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %s: %w", path, err)
	}
	m, _ = normalize(raw).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	keyErrs = checkKeys(m, configType, "", path)
	if mm, ok := m["matchmaking"].(map[string]any); ok {
		if modes, ok := mm["modes"].([]any); ok {
			for _, el := range modes {
				if em, ok := el.(map[string]any); ok {
					fillMissing(em, modeDefaults())
				}
			}
		}
	}
	return m, keyErrs, nil
}

// parseYAML turns a panic inside the YAML library into an error: a reload
// of a half-written file must not take the node down.
func parseYAML(b []byte) (m map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("invalid YAML: %v", r)
		}
	}()
	return yaml.Parser().Unmarshal(b)
}

// modeDefaults returns, as plain data, the values a mode from the file gets
// for the fields it omits: those of the default mode, less its name.
func modeDefaults() map[string]any {
	d := Default().Matchmaking.Modes[0]
	m := plain(reflect.ValueOf(d)).(map[string]any)
	delete(m, "name")
	return m
}

// loadEnv merges the MATCHD_* variables of environ into k and returns the
// names of those that name no key, and errors for those that name a key the
// environment cannot set.
func loadEnv(k *koanf.Koanf, environ []string) (ignored []string, keyErrs []error, err error) {
	leaves := map[string]reflect.Type{}
	leafKeys(configType, "", leaves)
	p := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, val string) (string, any) {
			key := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "__", ".")
			t, ok := leaves[key]
			switch {
			case !ok:
				ignored = append(ignored, name)
				return "", nil
			case t.Kind() == reflect.Slice && isSection(t.Elem()) && t.Elem() != serverType:
				keyErrs = append(keyErrs, &FieldError{Key: key, Msg: "can only be set in the config file, not by " + name})
				return "", nil
			}
			return key, val
		},
	})
	if err := k.Load(p, nil); err != nil {
		return nil, nil, fmt.Errorf("config: environment: %w", err)
	}
	sort.Strings(ignored)
	return ignored, keyErrs, nil
}

// decode unmarshals the merged map into a Config. Strings from the
// environment are weakly typed ("8192" to int); durations must be Go
// duration strings; a string where a list is wanted is split on commas.
func decode(k *koanf.Koanf) (Config, []error) {
	var c Config
	err := k.UnmarshalWithConf("", &c, koanf.UnmarshalConf{
		Tag: "koanf",
		DecoderConfig: &mapstructure.DecoderConfig{
			DecodeHook:       mapstructure.ComposeDecodeHookFunc(commaListHook, durationHook, integerHook, serverHook),
			WeaklyTypedInput: true,
		},
	})
	if err != nil {
		var errs []error
		collectDecodeErrors(err, &errs)
		return Config{}, errs
	}
	// A mode without regions reads the same whichever source left the
	// list empty.
	for i := range c.Matchmaking.Modes {
		if len(c.Matchmaking.Modes[i].Regions) == 0 {
			c.Matchmaking.Modes[i].Regions = nil
		}
	}
	return c, nil
}

// collectDecodeErrors rewrites mapstructure's errors into FieldErrors so that
// a bad value is reported like a failed validation: by its key.
func collectDecodeErrors(err error, out *[]error) {
	var de *mapstructure.DecodeError
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		for _, sub := range e.Unwrap() {
			collectDecodeErrors(sub, out)
		}
		return
	case *mapstructure.DecodeError:
		inner := e.Unwrap()
		if _, joined := inner.(interface{ Unwrap() []error }); joined || errors.As(inner, &de) {
			collectDecodeErrors(inner, out)
			return
		}
		msg := decodeMessage(inner)
		if e.Name() == "" {
			*out = append(*out, fmt.Errorf("config: %s", msg))
			return
		}
		*out = append(*out, &FieldError{Key: e.Name(), Msg: msg})
		return
	}
	if u := errors.Unwrap(err); u != nil {
		collectDecodeErrors(u, out)
		return
	}
	*out = append(*out, fmt.Errorf("config: %w", err))
}

// decodeMessage words a mapstructure value error with the offending value,
// which mapstructure leaves out. No secret can appear here: every secret is a
// string, and any YAML scalar decodes into a string.
func decodeMessage(err error) string {
	var pe *mapstructure.ParseError
	var ue *mapstructure.UnconvertibleTypeError
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("want %s, got %s", typeName(pe.Expected.Type()), describe(pe.Value))
	case errors.As(err, &ue):
		return fmt.Sprintf("want %s, got %s", typeName(ue.Expected.Type()), describe(ue.Value))
	}
	return strings.TrimSpace(err.Error())
}

func typeName(t reflect.Type) string {
	switch {
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Slice:
		return "a list"
	case isSection(t):
		return "a mapping"
	}
	return t.String()
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return fmt.Sprintf("%q", v)
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	case nil:
		return "nothing"
	}
	s := fmt.Sprint(v)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// durationHook parses Go duration strings. A bare number is refused (except
// 0): YAML "max_wait: 120" would otherwise mean 120ns.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	if from == durationType {
		return data, nil
	}
	v := reflect.ValueOf(data)
	switch from.Kind() {
	case reflect.String:
		s := strings.TrimSpace(v.String())
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration; use a Go duration such as \"100ms\", \"2s\" or \"5m\"", v.String())
		}
		return d, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		if v.IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("%v is not a duration: a bare number is ambiguous, add a unit such as \"%vs\"", data, data)
	default:
		return nil, fmt.Errorf("want a duration string such as \"2s\", got %T", data)
	}
}

// integerHook refuses a fractional, infinite or NaN number where an integer
// is wanted; mapstructure would silently truncate "send_queue: 1.9" to 1.
func integerHook(from, to reflect.Type, data any) (any, error) {
	if (from.Kind() != reflect.Float32 && from.Kind() != reflect.Float64) ||
		to.Kind() < reflect.Int || to.Kind() > reflect.Uint64 || to == durationType {
		return data, nil
	}
	f := reflect.ValueOf(data).Float()
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1<<53 {
		return nil, fmt.Errorf("want an integer, got %v", f)
	}
	return int64(f), nil
}

// commaListHook splits a string into a list when a list is wanted, so that
// MATCHD_REDIS__ADDRS=a:6379,b:6379 and "ladder: 0s,1m" work. Items are
// trimmed and empty items dropped, so "a:6379, b:6379," is two addresses and
// an empty string is an empty list.
func commaListHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice {
		return data, nil
	}
	out := []string{}
	for _, p := range strings.Split(reflect.ValueOf(data).String(), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

var serverType = reflect.TypeFor[GameServer]()

// serverHook reads a plain "host:port" where a GameServer is wanted, so
// allocator.servers takes strings (and MATCHD_ALLOCATOR__SERVERS a comma
// list) beside {addr, region} entries.
func serverHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to != serverType {
		return data, nil
	}
	return map[string]any{"addr": reflect.ValueOf(data).String()}, nil
}

// defaultNodeID is hostname-pid: unique per process on a host and
// recognisable in logs.
func defaultNodeID() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "matchd"
	}
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}

package protocol

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docPath is the protocol's documentation, which this test holds to the
// code.
const docPath = "../../docs/protocol.md"

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("the protocol's documentation: %v", err)
	}
	return string(b)
}

// wireConstants reads protocol.go's constants whose names start with one
// of prefixes, with their values: read from the source, so a constant added
// later is checked without anyone listing it here.
func wireConstants(t *testing.T, prefixes ...string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "protocol.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					continue
				}
				for _, p := range prefixes {
					if strings.HasPrefix(name.Name, p) {
						v := lit.Value
						if lit.Kind == token.STRING {
							v, _ = strconv.Unquote(v)
						}
						out[name.Name] = v
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no constants with prefixes %v in protocol.go", prefixes)
	}
	return out
}

// Every frame type, error code, reason and state name the code knows is
// documented (as `name`), and every close code.
func TestDocsNameEveryConstant(t *testing.T) {
	doc := readDoc(t)
	for name, v := range wireConstants(t, "Type", "Code", "Reason", "State") {
		if !strings.Contains(doc, "`"+v+"`") {
			t.Errorf("%s (%q) is not in %s", name, v, docPath)
		}
	}
	for name, v := range wireConstants(t, "Close") {
		if !regexp.MustCompile(`\| ` + v + ` \|`).MatchString(doc) {
			t.Errorf("%s (%s) is not in the close codes table of %s", name, v, docPath)
		}
	}
	if !strings.Contains(doc, "`"+Subprotocol+"`") {
		t.Errorf("the subprotocol %s is not in %s", Subprotocol, docPath)
	}
}

// serverFrames are the structs server frames are encoded from, by type. A
// new server frame type fails TestDocsExamplesDecode until it is added
// here and given an example in the documentation.
var serverFrames = map[string]func() any{
	TypeWelcome:        func() any { return &Welcome{} },
	TypeQueued:         func() any { return &Queued{} },
	TypeDequeued:       func() any { return &Dequeued{} },
	TypeMatchFound:     func() any { return &MatchFound{} },
	TypeLoadingStatus:  func() any { return &LoadingStatus{} },
	TypeMatchReady:     func() any { return &MatchReady{} },
	TypeMatchCancelled: func() any { return &MatchCancelled{} },
	TypeState:          func() any { return &StateReply{} },
	TypePong:           func() any { return &Pong{} },
	TypeError:          func() any { return &Error{} },
	TypeServerDraining: func() any { return &ServerDraining{} },
}

// clientFields are the fields a client frame may carry.
var clientFields = map[string]bool{"type": true, "rid": true, "mode": true, "match_id": true, "latencies": true}

// jsonBlocks returns the JSON values of every ```json block, in order.
func jsonBlocks(t *testing.T, doc string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, m := range regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		d := json.NewDecoder(strings.NewReader(m[1]))
		for d.More() {
			var raw json.RawMessage
			if err := d.Decode(&raw); err != nil {
				t.Fatalf("a json block of %s is not JSON: %v\n%s", docPath, err, m[1])
			}
			out = append(out, raw)
		}
	}
	return out
}

// Each JSON example decodes as the code reads it: client frames with
// Decode (the gateway's decoder), naming no field the protocol lacks;
// server frames, refused handshakes and state objects into their structs
// with unknown fields refused, and encoded back they are exactly the
// example: what the doc shows is byte for byte what the server sends.
// Every frame type has an example.
func TestDocsExamplesDecode(t *testing.T) {
	doc := readDoc(t)
	seen := map[string]bool{}
	for _, raw := range jsonBlocks(t, doc) {
		var head struct {
			Type *string `json:"type"`
			Code *string `json:"code"`
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			t.Errorf("example %s is not an object: %v", raw, err)
			continue
		}
		var v any
		switch {
		case head.Type == nil && head.Code != nil:
			v = &HTTPError{}
		case head.Type == nil && head.Name != nil:
			v = &State{}
		case head.Type == nil:
			t.Errorf("example %s has no type", raw)
			continue
		case serverFrames[*head.Type] != nil:
			v = serverFrames[*head.Type]()
		default:
			checkClientExample(t, raw)
			seen[*head.Type] = true
			continue
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			t.Errorf("example %s does not decode into %T: %v", raw, v, err)
			continue
		}
		b, err := Encode(v)
		if err != nil || !bytes.Equal(b, raw) {
			t.Errorf("example %s is encoded by the server as %s (%v)", raw, b, err)
		}
		if head.Type != nil {
			seen[*head.Type] = true
		}
	}
	for name, v := range wireConstants(t, "Type") {
		if !seen[v] {
			t.Errorf("%s (%q) has no JSON example in %s", name, v, docPath)
		}
	}
}

func checkClientExample(t *testing.T, raw json.RawMessage) {
	t.Helper()
	m, err := Decode(raw)
	if err != nil {
		t.Errorf("client example %s is refused: %v", raw, err)
		return
	}
	var fields map[string]any
	_ = json.Unmarshal(raw, &fields)
	for k := range fields {
		if !clientFields[k] {
			t.Errorf("client example %s has a field %q the protocol does not define", raw, k)
		}
	}
	if m.Rid == "" {
		t.Errorf("client example %s has no rid: show requests as clients should send them", raw)
	}
}

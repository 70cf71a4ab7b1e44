package protocol

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
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

// wireConstants reads the package's constants whose names start with one
// of prefixes, with their values: read from the source, so a constant added
// later, in any file, is checked without anyone listing it here.
func wireConstants(t *testing.T, prefixes ...string) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var decls []ast.Decl
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, f.Decls...)
	}
	out := map[string]string{}
	for _, d := range decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					break // iota's repeats are no wire values
				}
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
		t.Fatalf("no constants with prefixes %v in the package", prefixes)
	}
	return out
}

// Every frame type, error code, reason and state name the code knows is
// documented (as `name`), and every close code.
func TestDocsNameEveryConstant(t *testing.T) {
	doc := readDoc(t)
	for name, v := range wireConstants(t, "Type", "Code", "Reason", "State", "PartyLeft") {
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
	TypeParty:          func() any { return &Party{} },
	TypePartyInvited:   func() any { return &PartyInvite{} },
	TypePartyLeft:      func() any { return &PartyLeft{} },
}

// clientFields are the fields a client frame may carry.
var clientFields = map[string]bool{"type": true, "rid": true, "mode": true, "match_id": true, "latencies": true,
	"player_id": true, "party_id": true, "open": true}

// isClientType reports whether the gateway's decoder serves frames of
// type v, asking Decode itself so the list cannot fall behind it.
func isClientType(v string) bool {
	b, _ := json.Marshal(map[string]string{"type": v})
	_, err := Decode(b)
	de, ok := AsDecodeError(err)
	return !ok || de.Code != CodeUnknownType
}

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
// Every frame type has an example, in each direction it travels. A type
// both sides send (party_invite) is a request when its example carries a
// rid, as every client example must, and the server's frame otherwise.
func TestDocsExamplesDecode(t *testing.T) {
	doc := readDoc(t)
	seenClient, seenServer := map[string]bool{}, map[string]bool{}
	for _, raw := range jsonBlocks(t, doc) {
		var head struct {
			Type *string `json:"type"`
			Rid  *string `json:"rid"`
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
		case serverFrames[*head.Type] != nil && !(head.Rid != nil && isClientType(*head.Type)):
			v = serverFrames[*head.Type]()
		default:
			checkClientExample(t, raw)
			seenClient[*head.Type] = true
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
			seenServer[*head.Type] = true
		}
	}
	for name, v := range wireConstants(t, "Type") {
		client, server := isClientType(v), serverFrames[v] != nil
		if !client && !server {
			t.Errorf("%s (%q) is neither decoded as a request nor in serverFrames", name, v)
		}
		if client && !seenClient[v] {
			t.Errorf("%s (%q) has no JSON example of the request in %s", name, v, docPath)
		}
		if server && !seenServer[v] {
			t.Errorf("%s (%q) has no JSON example of the server's frame in %s", name, v, docPath)
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

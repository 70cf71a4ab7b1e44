package protocol

import "unicode/utf8"

// maxFlatKeys bounds the keys scanFlatFrame remembers to spot a duplicate,
// so a frame padded with many keys costs no quadratic search; the contract
// has eight, and a frame with more is left to readFrame.
const maxFlatKeys = 8

// scanFlatFrame reads the frames clients actually send: optional JSON
// whitespace, one object whose keys are ASCII strings and whose values are
// strings, none with an escape or a control character (or, for open only,
// true or false), and optional whitespace. For those the outcome cannot depend on how encoding/json
// unescapes, repairs UTF-8 or resolves duplicate keys, so it is certain to
// match readFrame. Anything else, including valid JSON it could have read,
// reports false: being wrong here would change answers, bailing out only
// costs time.
//
// Values are copied out of b because a caller may hand the strings on long
// after the frame's buffer is gone or reused.
func scanFlatFrame(b []byte) (frameFields, bool) {
	var (
		f    frameFields
		keys [maxFlatKeys][]byte
		n    int
	)
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return frameFields{}, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			key, next, ok := scanFlatString(b, i)
			if !ok || !isASCII(key) || n == len(keys) {
				return frameFields{}, false
			}
			for _, k := range keys[:n] {
				if string(k) == string(key) {
					return frameFields{}, false
				}
			}
			keys[n] = key
			n++
			i = skipSpace(b, next)
			if i == len(b) || b[i] != ':' {
				return frameFields{}, false
			}
			i = skipSpace(b, i+1)
			if v, end, isBool := scanBool(b, i); isBool && string(key) == "open" {
				// open is the one flag clients send; any other bool is
				// left to readFrame.
				f.open = field{kind: fieldBool, b: v}
				next = end
			} else {
				val, end, ok := scanFlatString(b, i)
				if !ok || !utf8.Valid(val) {
					return frameFields{}, false
				}
				next = end
				switch string(key) {
				case "latencies":
					// A string here is ill-typed: readFrame says so.
					return frameFields{}, false
				case "open":
					// Ill-typed too, and message says so itself.
					f.open = field{kind: fieldOther}
				case "type":
					f.typ = field{kind: fieldString, s: typeName(val)}
				case "rid":
					f.rid = field{kind: fieldString, s: string(val)}
				case "mode":
					f.mode = field{kind: fieldString, s: string(val)}
				case "match_id":
					f.matchID = field{kind: fieldString, s: string(val)}
				case "player_id":
					f.playerID = field{kind: fieldString, s: string(val)}
				case "party_id":
					f.partyID = field{kind: fieldString, s: string(val)}
				}
			}
			i = skipSpace(b, next)
			if i == len(b) {
				return frameFields{}, false
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return frameFields{}, false
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return frameFields{}, false
	}
	return f, true
}

// scanFlatString reads the JSON string opening at b[i] if it needs no
// unescaping, giving its contents (still in b) and the index after it.
// Control characters are refused because JSON forbids them raw.
func scanFlatString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// scanBool reads the JSON literal true or false at b[i]. What follows it
// is checked by the caller, so "truex" is refused there.
func scanBool(b []byte, i int) (v bool, next int, ok bool) {
	switch {
	case len(b)-i >= 4 && string(b[i:i+4]) == "true":
		return true, i + 4, true
	case len(b)-i >= 5 && string(b[i:i+5]) == "false":
		return false, i + 5, true
	}
	return false, 0, false
}

// typeName returns the constant for a known type so the common frames cost
// no allocation for it.
func typeName(v []byte) string {
	switch string(v) {
	case TypeEnqueue:
		return TypeEnqueue
	case TypeCancel:
		return TypeCancel
	case TypeLoadingComplete:
		return TypeLoadingComplete
	case TypeSync:
		return TypeSync
	case TypePing:
		return TypePing
	case TypePartyCreate:
		return TypePartyCreate
	case TypePartyInvite:
		return TypePartyInvite
	case TypePartyJoin:
		return TypePartyJoin
	case TypePartyLeave:
		return TypePartyLeave
	case TypePartyKick:
		return TypePartyKick
	case TypePartyPromote:
		return TypePartyPromote
	}
	return string(v)
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skipSpace skips the four bytes JSON counts as whitespace, and no others.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxReply caps a reply body; /debug/actors of a busy node is the largest.
const maxReply = 64 << 20

// request builds a request to the admin listener with the token set.
func (c *cli) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "matchctl")
	return req, nil
}

// send does req and turns a transport failure or a non-2xx reply into an
// error an on-call person can act on. The caller closes the body.
func (c *cli) send(client *http.Client, req *http.Request) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		switch ctxErr := req.Context().Err(); {
		case errors.Is(ctxErr, context.DeadlineExceeded):
			return nil, fmt.Errorf("no reply from the admin listener at %s within %s", c.base.Host, c.timeout)
		case ctxErr != nil:
			return nil, ctxErr // interrupted
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach the admin listener at %s: %w", c.base.Host, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return nil, c.statusError(req, resp.StatusCode, b)
}

// replyError is a reply of the admin listener outside 2xx, in words; its
// status lets a command fall back (a party id that is a player's).
type replyError struct {
	status int
	msg    string
}

func (e *replyError) Error() string { return e.msg }

func (c *cli) statusError(req *http.Request, status int, body []byte) error {
	return &replyError{status: status, msg: c.statusText(req, status, body)}
}

func (c *cli) statusText(req *http.Request, status int, body []byte) string {
	what := req.Method + " " + req.URL.Path
	switch status {
	case http.StatusUnauthorized:
		if c.token == "" {
			return fmt.Sprintf("%s: the admin listener at %s wants an admin token: pass --token or set MATCHD_ADMIN__TOKEN", what, c.base.Host)
		}
		return fmt.Sprintf("%s: the admin listener at %s refused the admin token: check --token or MATCHD_ADMIN__TOKEN against admin.token", what, c.base.Host)
	case http.StatusNotFound:
		if msg := replyMessage(body); msg != "" {
			return fmt.Sprintf("%s: not found: %s", what, msg)
		}
		return fmt.Sprintf("%s: not found (is %s a matchd admin listener, and this matchd recent enough?)", what, c.base.Host)
	}
	msg := replyMessage(body)
	if msg == "" {
		return fmt.Sprintf("%s: %d %s", what, status, http.StatusText(status))
	}
	return fmt.Sprintf("%s: %d %s: %s", what, status, http.StatusText(status), msg)
}

// replyMessage is the message of a matchd error reply
// ({"code": ..., "message": ...}), else the body's first line.
func replyMessage(body []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	if json.Unmarshal(body, &e) == nil && (e.Message != "" || e.Reason != "") {
		msg := e.Message
		if msg == "" {
			msg = e.Reason
		}
		if e.Code != "" {
			return e.Code + ": " + msg
		}
		return msg
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}

// call does one request and returns the reply body.
func (c *cli) call(ctx context.Context, method, path string, body any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(http.DefaultClient, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the reply: %w", method, path, err)
	}
	return b, nil
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("unexpected reply from the admin listener (%w): %s", err, replyMessage(body))
	}
	return nil
}

// printJSON prints a JSON reply indented.
func printJSON(w io.Writer, body []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(body), "", "  "); err != nil {
		return fmt.Errorf("unexpected reply from the admin listener (%w): %s", err, replyMessage(body))
	}
	out.WriteByte('\n')
	_, err := out.WriteTo(w)
	return err
}

// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Client talks to a running daemon's HTTP API, finding it through the
// api.addr file the daemon writes into its home (as kubo does).
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
	// WaitPublishLimit: when the region's publishing limit refuses a
	// record (HTTP 429, nothing was signed), wait as the daemon says and
	// send it again, for at most this long in all; 0 returns the error.
	WaitPublishLimit time.Duration
	// OnWait, if set, is told before each such wait.
	OnWait func(d time.Duration, err error)
}

// ErrNoDaemon is returned when no daemon runs on the home.
var ErrNoDaemon = errors.New("no livinglab daemon is running on this home (start one with: livinglab run)")

// NewClient builds a client for the daemon of home h.
func NewClient(h Home) (*Client, error) {
	b, err := os.ReadFile(h.APIAddr())
	if err != nil {
		if _, cerr := os.Stat(h.Config()); cerr != nil {
			return nil, fmt.Errorf("%s is not a livinglab home (create one with: livinglab init --home %s --region NAME)", h.Dir, h.Dir)
		}
		return nil, ErrNoDaemon
	}
	tok, err := h.LoadToken()
	if err != nil {
		return nil, err
	}
	return &Client{Base: "http://" + strings.TrimSpace(string(b)), Token: tok, HTTP: &http.Client{Timeout: 5 * time.Minute}}, nil
}

// Do sends a request with a JSON body (if in != nil) and decodes the JSON
// answer into out (if out != nil). API errors come back as *APIErrorResponse.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	deadline := time.Now().Add(c.WaitPublishLimit)
	for {
		err := c.do(ctx, method, path, body, out)
		var ae *APIErrorResponse
		if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.Code != "publish_limit" ||
			ae.RetryAfter <= 0 || time.Now().Add(ae.RetryAfter).After(deadline) {
			return err
		}
		if c.OnWait != nil {
			c.OnWait(ae.RetryAfter, err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(ae.RetryAfter):
		}
	}
}

// do sends one request; in is the JSON body, nil for none.
func (c *Client) do(ctx context.Context, method, path string, in []byte, out any) error {
	var body io.Reader
	if in != nil {
		body = bytes.NewReader(in)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%w (%v)", ErrNoDaemon, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var e APIError
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e = APIError{Error: strings.TrimSpace(string(b)), Code: http.StatusText(resp.StatusCode)}
		}
		ae := &APIErrorResponse{Status: resp.StatusCode, APIError: e}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			ae.RetryAfter = time.Duration(secs) * time.Second
		}
		return ae
	}
	if out != nil {
		if raw, ok := out.(*json.RawMessage); ok {
			*raw = append((*raw)[:0], b...)
			return nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	return nil
}

// APIErrorResponse is an error answer of the API.
type APIErrorResponse struct {
	Status     int
	RetryAfter time.Duration // from the Retry-After header, if any
	APIError
}

func (e *APIErrorResponse) Error() string { return e.APIError.Error }

// APIError is the JSON body of every error answer of the HTTP API.
type APIError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

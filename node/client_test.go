// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func answerJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// A record refused by the publishing limit is sent again once the daemon's
// Retry-After has passed, while the client may wait; other errors, and
// waits beyond what it may wait, come back at once.
func TestClientWaitsForPublishLimit(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/limited-once":
			if calls.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				answerJSON(w, http.StatusTooManyRequests, APIError{Error: "publishing limit reached", Code: "publish_limit"})
				return
			}
			answerJSON(w, http.StatusOK, map[string]string{"cid": "ok"})
		case "/limited-long":
			w.Header().Set("Retry-After", "3600")
			answerJSON(w, http.StatusTooManyRequests, APIError{Error: "publishing limit reached", Code: "publish_limit"})
		default:
			answerJSON(w, http.StatusTooManyRequests, APIError{Error: "busy", Code: "busy"})
		}
	}))
	defer srv.Close()
	var waited []time.Duration
	c := &Client{Base: srv.URL, HTTP: srv.Client(), WaitPublishLimit: time.Minute,
		OnWait: func(d time.Duration, _ error) { waited = append(waited, d) }}
	ctx := context.Background()

	var out map[string]string
	start := time.Now()
	if err := c.Do(ctx, "POST", "/limited-once", map[string]string{"title": "x"}, &out); err != nil || out["cid"] != "ok" {
		t.Fatalf("after one refusal: %v, %v", out, err)
	}
	if calls.Load() != 2 || len(waited) != 1 || waited[0] != time.Second || time.Since(start) < time.Second {
		t.Fatalf("calls %d, waits %v, took %s; want 2 calls after one wait of 1s", calls.Load(), waited, time.Since(start))
	}

	var ae *APIErrorResponse
	err := c.Do(ctx, "POST", "/limited-long", map[string]string{"title": "x"}, nil)
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.RetryAfter != time.Hour {
		t.Fatalf("a wait beyond the client's: %v, want the 429 with Retry-After 1h at once", err)
	}
	err = c.Do(ctx, "POST", "/other", nil, nil)
	if !errors.As(err, &ae) || ae.Code != "busy" || len(waited) != 1 {
		t.Fatalf("another 429: %v (waits %v), want it at once", err, waited)
	}

	calls.Store(0)
	c.WaitPublishLimit = 0
	if err := c.Do(ctx, "POST", "/limited-once", nil, nil); !errors.As(err, &ae) || ae.Code != "publish_limit" {
		t.Fatalf("a client that may not wait: %v, want the 429", err)
	}
}

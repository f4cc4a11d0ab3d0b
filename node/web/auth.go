// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/livinglab/livinglab/knowledge"
)

// Session and sign-in limits.
const (
	sessionIdle     = 8 * time.Hour  // a session unused this long ends
	sessionMax      = 24 * time.Hour // a session ends this long after sign-in
	maxSessions     = 10000
	signinWindow    = 15 * time.Minute
	signinLockout   = 15 * time.Minute
	signinMaxFails  = 5
	signinTrackKeys = 10000
)

// session is a signed-in browser.
type session struct {
	ID      string
	User    string
	CSRF    string
	Created time.Time
	Seen    time.Time
	// PrevVisit is when the account's previous session began: the home
	// page shows what is new since.
	PrevVisit time.Time
}

func randomToken() string {
	b := make([]byte, 32) // 256 bits
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokensEqual(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// session returns the live session of the request's cookie, or nil.
func (u *webUI) session(r *http.Request) *session {
	c, err := r.Cookie(u.cookie)
	if err != nil || c.Value == "" {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.sessions[c.Value]
	if !ok {
		return nil
	}
	now := time.Now()
	if now.Sub(s.Seen) > sessionIdle || now.Sub(s.Created) > sessionMax {
		delete(u.sessions, c.Value)
		return nil
	}
	s.Seen = now
	return s
}

func (u *webUI) newSession(user string) *session {
	now := time.Now()
	s := &session{ID: randomToken(), User: user, CSRF: randomToken(), Created: now, Seen: now,
		PrevVisit: u.prefs.get(user).LastVisit}
	if err := u.prefs.update(user, func(p *userPrefs) { p.LastVisit = now }); err != nil {
		u.log.Warn("remember the visit", "user", user, "err", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.sessions) >= maxSessions {
		for id, o := range u.sessions {
			if now.Sub(o.Seen) > sessionIdle || now.Sub(o.Created) > sessionMax {
				delete(u.sessions, id)
			}
		}
		if len(u.sessions) >= maxSessions { // still full: drop the oldest
			var oldest string
			for id, o := range u.sessions {
				if oldest == "" || o.Seen.Before(u.sessions[oldest].Seen) {
					oldest = id
				}
			}
			delete(u.sessions, oldest)
		}
	}
	u.sessions[s.ID] = s
	return s
}

// endSessions ends every session of a user (after a password change or the
// removal of the account), except keep.
func (u *webUI) endSessions(user, keep string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id, s := range u.sessions {
		if s.User == user && id != keep {
			delete(u.sessions, id)
		}
	}
}

func (u *webUI) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// ---- sign-in rate limiting ----

// signinLimiter refuses sign-ins for a user name or a client address after
// signinMaxFails failures within signinWindow, for signinLockout.
type signinLimiter struct {
	mu   sync.Mutex
	keys map[string]*signinTrack
}

type signinTrack struct {
	fails  []time.Time
	locked time.Time // refused until then
}

func (l *signinLimiter) lockedUntil(keys ...string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var until time.Time
	now := time.Now()
	for _, k := range keys {
		if t, ok := l.keys[k]; ok && t.locked.After(now) && t.locked.After(until) {
			until = t.locked
		}
	}
	return until
}

func (l *signinLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.keys == nil {
		l.keys = map[string]*signinTrack{}
	}
	if len(l.keys) >= signinTrackKeys {
		for k, t := range l.keys {
			if t.locked.Before(now) && (len(t.fails) == 0 || now.Sub(t.fails[len(t.fails)-1]) > signinWindow) {
				delete(l.keys, k)
			}
		}
	}
	for _, k := range keys {
		t, ok := l.keys[k]
		if !ok {
			t = &signinTrack{}
			l.keys[k] = t
		}
		keep := t.fails[:0]
		for _, f := range t.fails {
			if now.Sub(f) < signinWindow {
				keep = append(keep, f)
			}
		}
		t.fails = append(keep, now)
		if len(t.fails) >= signinMaxFails {
			t.locked, t.fails = now.Add(signinLockout), nil
		}
	}
}

func (l *signinLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}

func clientIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// ---- sign-in, sign-out ----

type signinData struct {
	Next     string
	Username string
	Token    string
	NoUsers  bool
	// Demo shows the demo's fixed sign-in (only `livinglab demo` sets it).
	Demo                   bool
	DemoUser, DemoPassword string
}

// index shows the home page to a signed-in browser and the sign-in form to
// anyone else.
func (u *webUI) index(w http.ResponseWriter, r *http.Request) {
	if s := u.session(r); s != nil {
		u.home(w, r, s)
		return
	}
	u.signinForm(w, r, http.StatusOK, "", "")
}

func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	if p, err := url.Parse(next); err != nil || p.Host != "" || p.Scheme != "" {
		return "/"
	}
	return next
}

func (u *webUI) signinForm(w http.ResponseWriter, r *http.Request, status int, user, msg string) {
	tok := randomToken()
	if c, err := r.Cookie(u.preCookie); err == nil && len(c.Value) >= 40 {
		tok = c.Value // keep the token of a form open in another tab
	}
	u.setCookie(w, r, u.preCookie, tok, 3600)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostForm.Get("next")
	}
	users, _ := u.n.Users()
	u.mu.Lock()
	du, dp := u.demoUser, u.demoPassword
	u.mu.Unlock()
	u.render(w, r, status, "signin", view{Title: u.tr(r).T("signin.button"), Error: msg, Data: signinData{Next: safeNext(next),
		Username: user, Token: tok, NoUsers: len(users) == 0, Demo: du != "", DemoUser: du, DemoPassword: dp}})
}

func (u *webUI) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, http.StatusBadRequest, u.tr(r).T("error.form_unreadable"))
		return
	}
	tr := u.tr(r)
	c, err := r.Cookie(u.preCookie)
	if err != nil || !tokensEqual(r.PostForm.Get("csrf"), c.Value) {
		u.errorPage(w, r, http.StatusForbidden, tr.T("signin.csrf"))
		return
	}
	name := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	pw := r.PostForm.Get("password")
	userKey, ipKey := "user:"+name, "ip:"+clientIP(r)
	if until := u.limiter.lockedUntil(userKey, ipKey); !until.IsZero() {
		wait := time.Until(until).Round(time.Minute)
		w.Header().Set("Retry-After", strconv.Itoa(int(time.Until(until).Seconds())+1))
		u.signinForm(w, r, http.StatusTooManyRequests, name,
			tr.N("signin.locked", int(max(wait, time.Minute).Minutes())))
		return
	}
	if err := u.n.CheckPassword(name, pw); err != nil {
		if !errors.Is(err, knowledge.ErrBadPassword) {
			u.log.Error("sign-in", "err", err)
			u.signinForm(w, r, http.StatusInternalServerError, name, tr.T("signin.store_error"))
			return
		}
		u.limiter.fail(userKey, ipKey)
		u.log.Warn("failed sign-in", "user", name, "client", clientIP(r))
		u.signinForm(w, r, http.StatusUnauthorized, name, tr.T("signin.wrong"))
		return
	}
	u.limiter.succeed(userKey)
	u.n.TouchUser(name)
	s := u.newSession(name)
	u.setCookie(w, r, u.cookie, s.ID, int(sessionMax.Seconds()))
	u.setCookie(w, r, u.preCookie, "", -1)
	u.log.Info("signed in", "user", name, "client", clientIP(r))
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (u *webUI) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	u.mu.Lock()
	delete(u.sessions, s.ID)
	u.mu.Unlock()
	u.setCookie(w, r, u.cookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// ---- account ----

func (u *webUI) accountPage(w http.ResponseWriter, r *http.Request, s *session) {
	users, _ := u.n.Users()
	u.render(w, r, http.StatusOK, "account", view{Title: u.tr(r).T("account.title"), Nav: "account", Data: users})
}

func (u *webUI) passwordForm(w http.ResponseWriter, r *http.Request, s *session) {
	users, _ := u.n.Users()
	tr := u.tr(r)
	fail := func(status int, msg string) {
		u.render(w, r, status, "account", view{Title: tr.T("account.title"), Nav: "account", Error: msg, Data: users})
	}
	if err := u.n.CheckPassword(s.User, r.PostForm.Get("current")); err != nil {
		fail(http.StatusForbidden, tr.T("account.wrong_current"))
		return
	}
	pw := r.PostForm.Get("new")
	if pw != r.PostForm.Get("repeat") {
		fail(http.StatusBadRequest, tr.T("account.differ"))
		return
	}
	if err := u.n.SetPassword(s.User, pw); err != nil {
		fail(http.StatusBadRequest, tr.T("account.not_changed", "Reason", strings.TrimPrefix(err.Error(), knowledge.ErrInvalid.Error()+": ")))
		return
	}
	u.endSessions(s.User, s.ID)
	http.Redirect(w, r, "/account?done=password", http.StatusSeeOther)
}

// ---- /api/v1/users: local accounts for programs (API token only) ----

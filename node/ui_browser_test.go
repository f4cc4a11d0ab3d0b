// SPDX-License-Identifier: EUPL-1.2

package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/livinglab/livinglab/internal/testkit"
)

const chromiumPath = "/usr/bin/chromium"

// newChromium starts a headless Chromium for a test.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s is absent (install Debian's chromium: apt-get install -y chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	if err := chromedp.Do(bctx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// tab is one browser tab driving one region's web UI.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
}

func newTab(t *testing.T, browser context.Context, base, name string) *tab {
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab; no timeout on this first call
		t.Fatalf("open a tab: %v", err)
	}
	return &tab{t: t, ctx: ctx, base: base, name: name}
}

// void drops the value of an action.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// value runs an action on the tab and returns its value.
func value[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.fail(what, err)
	}
	return v
}

func (tb *tab) fail(what string, err error) {
	tb.t.Helper()
	loc, _ := chromedp.Run(tb.ctx, chromedp.Location())
	body, _ := chromedp.Run(tb.ctx, chromedp.Text(chromedp.CSS("main")))
	tb.t.Fatalf("%s: %s: %v\nat %s:\n%s", tb.name, what, err, loc, testkit.Tail(body, 30))
}

func (tb *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	value(tb, what, chromedp.Steps(actions...))
}

func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.run("open "+path, chromedp.Navigate(tb.base+path), chromedp.WaitReady(chromedp.CSS("main")))
}

// addItem opens the add form of an initiative's section, types into each
// field (selector, then text) and submits it with the button submit.
func (tb *tab) addItem(what, section, submit string, fields ...string) {
	tb.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(section + " summary"))}
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(fields[i]), fields[i+1]))
	}
	tb.run(what, steps...)
	tb.submit(submit)
}

// submit clicks a form's button and waits for the next page.
func (tb *tab) submit(sel string) {
	tb.t.Helper()
	before := tb.location()
	tb.run("submit "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		// While the page changes the tab may answer with an error: try again.
		ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && loc != before {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.run("page after "+sel, chromedp.WaitReady(chromedp.CSS("footer")))
}

func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	png := value(tb, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := filepath.Join("..", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) signIn() {
	tb.t.Helper()
	tb.open("/")
	tb.run("sign in",
		chromedp.SendKeys(chromedp.CSS("#username"), uiTestUser),
		chromedp.SendKeys(chromedp.CSS("#password"), uiTestPassword),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#h-health")))
}

func (tb *tab) location() string {
	tb.t.Helper()
	return value(tb, "location", chromedp.Location())
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return value(tb, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// liveFeedConnected waits until the feed page's event stream is open.
func liveFeedConnected() chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](`document.getElementById("live-status").textContent.indexOf("Live") >= 0`,
		chromedp.WithPollingTimeout(15*time.Second)))
}

// TestBrowserPublishFlow drives two regions' web UIs in a real browser:
// lab data with personal data on region A, a draft whose preview shows the
// redactions, approval and publication; the practice arriving live on
// region B and found by search there; its retraction removing it from B.
func TestBrowserPublishFlow(t *testing.T) {
	browser := newChromium(t)
	start := time.Now()
	a := startUINode(t, "North Karelia", "FI", "improve")
	b := startUINode(t, "Västernorrland", "SE", "")
	ctx := context.Background()
	joinUINode(t, a, b)
	for _, un := range []*uiNode{a, b} {
		if err := un.n.Subscribe(ctx, "elderly-care"); err != nil {
			t.Fatal(err)
		}
	}

	ta := newTab(t, browser, a.base, "North Karelia")
	ta.signIn()
	ta.screenshot("dashboard")

	// Lab data: an initiative, a stakeholder and an activity naming them.
	ta.open("/lab")
	ta.run("fill the initiative",
		chromedp.SendKeys(chromedp.CSS("#ini-title"), "Night-time telecare in the villages"),
		chromedp.SendKeys(chromedp.CSS("#ini-service"), "night-time home care"),
		chromedp.SendKeys(chromedp.CSS("#ini-description"), "Home-care nurses and village volunteers answer night-time alarms together."),
		chromedp.SetValue(chromedp.CSS("#ini-language"), "en"),
		chromedp.Click(chromedp.CSS(`#h-new ~ form input[name="topic"][value="elderly-care"]`)))
	ta.submit("#create-initiative")
	if !strings.Contains(ta.location(), "/lab/initiatives/ini-") {
		t.Fatalf("after creating the initiative at %s", ta.location())
	}
	ta.addItem("add a stakeholder", "#stakeholders", "#add-stakeholder",
		"#stk-name", "Aino Mattila",
		"#stk-role", "village volunteer",
		"#stk-email", "aino.mattila@pielinen.example.fi",
		"#stk-phone", "+358 40 765 4321")
	ta.addItem("record an activity", "#activities", "#add-activity",
		"#act-title", "Kick-off workshop in the village hall",
		"#act-attendees", "Aino Mattila",
		"#act-counts", "residents: 14\nvolunteers: 6",
		"#act-notes", "Aino Mattila (aino.mattila@pielinen.example.fi, +358 40 765 4321) explained how volunteers answer night-time alarms.")
	ta.run("the initiative shows its stage", chromedp.WaitVisible(chromedp.CSS(".stages li.current")))
	ta.screenshot("initiative")

	// Draft and preview: the redactions are visible.
	ta.submit("#create-draft")
	if !strings.Contains(ta.location(), "/drafts/drf-") {
		t.Fatalf("after creating the draft at %s", ta.location())
	}
	ta.run("the preview shows redactions", chromedp.WaitVisible(chromedp.CSS("#preview mark.redaction")))
	redactions := value(ta, "find redactions", chromedp.Nodes(chromedp.CSSAll("#preview dl mark.redaction")))
	if len(redactions) == 0 {
		t.Fatal("the preview highlights no redaction")
	}
	preview := ta.text("#preview dl")
	for _, secret := range []string{"Aino Mattila", "aino.mattila@pielinen.example.fi", "765 4321"} {
		if strings.Contains(preview, secret) {
			t.Errorf("the preview of what would leave contains %q", secret)
		}
	}
	ta.screenshot("draft-preview")
	ta.submit("#approve-draft")
	ta.run("approved", chromedp.WaitVisible(chromedp.CSS("#publish-draft")))

	// Region B watches its live feed while A publishes.
	tbB := newTab(t, browser, b.base, "Västernorrland")
	tbB.signIn()
	tbB.open("/feed")
	tbB.run("live feed connects", liveFeedConnected())

	ta.submit("#publish-draft")
	loc := ta.location()
	i := strings.Index(loc, "/practices/")
	if i < 0 {
		t.Fatalf("after publishing at %s", loc)
	}
	cid := strings.SplitN(loc[i+len("/practices/"):], "?", 2)[0]
	ta.run("open the provenance", chromedp.Click(chromedp.CSS(".provenance summary")))
	if got := ta.text(".provenance"); !strings.Contains(got, "signature verified") || !strings.Contains(got, cid) {
		t.Errorf("provenance on A: %s", got)
	}
	ta.screenshot("practice")

	item := `#feed li[data-cid="` + cid + `"]`
	tbB.run("the practice arrives in B's live feed", chromedp.WaitVisible(chromedp.CSS(item)))
	tbB.screenshot("feed")
	tbB.open("/search?q=telecare+villages")
	tbB.run("B finds the practice", chromedp.WaitVisible(chromedp.CSS(`.hits a[href="/practices/`+cid+`"]`)))
	tbB.screenshot("search")
	tbB.open("/practices/" + cid)
	if got := tbB.text("main"); !strings.Contains(got, "signature verified") || strings.Contains(got, "Aino Mattila") ||
		strings.Contains(got, "aino.mattila@") {
		t.Errorf("the practice on B: %s", got)
	}

	// B keeps the feed open; A retracts; the item disappears from B.
	tbB.open("/feed")
	tbB.run("feed lists the practice", chromedp.WaitVisible(chromedp.CSS(item)),
		liveFeedConnected())
	ta.run("retract", chromedp.SendKeys(chromedp.CSS("#reason"), "Withdrawn after review by the lab."))
	ta.submit("#retract")
	if got := ta.text("main"); !strings.Contains(got, "Every member node deletes") {
		t.Fatalf("retracting asks no confirmation: %s", got)
	}
	ta.submit("#confirm")
	if got := ta.text("main"); !strings.Contains(got, "Retracted record") {
		t.Fatalf("after retracting on A: %s", got)
	}
	tbB.run("the practice leaves B's live feed", chromedp.WaitNotPresent(chromedp.CSS(item)))
	tbB.open("/search?q=telecare+villages")
	if got := tbB.text(".results"); strings.Contains(got, "Night-time telecare") {
		t.Errorf("B still finds the retracted practice: %s", got)
	}
	tbB.open("/practices/" + cid)
	if got := tbB.text("main"); !strings.Contains(got, "Retracted record") {
		t.Errorf("the retracted practice on B: %s", got)
	}

	for _, p := range []struct{ path, name string }{{"/lab", "lab"}, {"/topics", "topics"}, {"/federation", "federation"}, {"/drafts", "drafts"}} {
		ta.open(p.path)
		ta.screenshot(p.name)
	}
	t.Logf("browser flow took %s", time.Since(start).Round(time.Millisecond))
}

// joinUINode admits b to a's federation by a real invite.
func joinUINode(t *testing.T, a, b *uiNode) {
	t.Helper()
	tok, _, err := a.n.Invite()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.n.Join(ctx, tok); err != nil {
		t.Fatalf("join: %v", err)
	}
}

// SPDX-License-Identifier: EUPL-1.2

package testkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Livinglab builds ./cmd/livinglab of the module the test runs in, once per
// test binary, and returns the path of the binary. Main removes it.
func Livinglab(t T) string {
	t.Helper()
	built.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			built.err = err
			return
		}
		built.dir, built.err = os.MkdirTemp("", "livinglab-test-bin-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "livinglab")
		cmd := exec.Command("go", "build", "-o", built.path, "./cmd/livinglab")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/livinglab: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// moduleRoot is the nearest directory above the working directory that
// holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = up
	}
}

// Main runs the tests, removes what Livinglab built and exits; a test
// package that uses Livinglab calls it from its TestMain.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// CleanEnv is the environment for child processes: no systemd socket and
// none of the caller's livinglab settings.
func CleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "LIVINGLAB_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Result is what a finished command printed and its exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
}

// Run runs bin with args in CleanEnv and returns what it printed and its
// exit code. It fails the test when the command cannot start or has not
// finished in 60 s.
func Run(t T, bin string, args ...string) Result {
	t.Helper()
	return RunEnv(t, nil, bin, args...)
}

// RunEnv is Run with the variables env added to the environment.
func RunEnv(t T, env []string, bin string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(CleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v", filepath.Base(bin), args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish in 60 s", filepath.Base(bin), args)
	}
	return r
}

// MustRun is Run that fails the test unless the command succeeds; it
// returns the command's standard output.
func MustRun(t T, bin string, args ...string) string {
	t.Helper()
	r := Run(t, bin, args...)
	if r.Code != 0 {
		t.Fatalf("%s %v: %s", filepath.Base(bin), args, r)
	}
	return r.Stdout
}

// Daemon is a long-running process, such as `livinglab run`, started by
// StartDaemon.
type Daemon struct {
	Name string
	Cmd  *exec.Cmd
	Out  *Buffer // standard output
	Errs *Buffer // standard error: the log
	done chan struct{}
	err  error
}

// StartDaemon starts bin with args in CleanEnv and waits until it prints a
// line "ready", for at most wait. When the test ends it stops the process
// and, if the test failed, logs the tails of its output.
func StartDaemon(t T, name string, wait time.Duration, bin string, args ...string) *Daemon {
	t.Helper()
	d := &Daemon{Name: name, Out: &Buffer{}, Errs: &Buffer{}, done: make(chan struct{})}
	d.Cmd = exec.Command(bin, args...)
	d.Cmd.Env = CleanEnv()
	d.Cmd.Stdout, d.Cmd.Stderr = d.Out, d.Errs
	if err := d.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.Cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("--- %s stdout ---\n%s\n--- %s stderr ---\n%s", name, Tail(d.Out.String(), 20), name, Tail(d.Errs.String(), 40))
		}
	})
	deadline := time.After(wait)
	for !strings.Contains(d.Out.String(), "ready\n") {
		select {
		case <-d.done:
			t.Fatalf("%s exited at start (%v): %s", name, d.err, Tail(d.Errs.String(), 20))
		case <-deadline:
			t.Fatalf("%s not ready in %s: %s", name, wait, Tail(d.Errs.String(), 20))
		case <-time.After(20 * time.Millisecond):
		}
	}
	return d
}

// Done is closed once the process has ended.
func (d *Daemon) Done() <-chan struct{} { return d.done }

// Err is what waiting for the process returned; it is set once Done is
// closed.
func (d *Daemon) Err() error {
	<-d.done
	return d.err
}

// Stop sends SIGTERM and waits for the process to end; after 15 s it kills
// it. It reports whether the process ended by itself (or had already).
func (d *Daemon) Stop() bool {
	select {
	case <-d.done:
		return true
	default:
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return true
	case <-time.After(15 * time.Second):
		d.Cmd.Process.Kill()
		<-d.done
		return false
	}
}

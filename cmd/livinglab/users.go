// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

// uiCmds returns the commands for the web UI's accounts and the demo.
func uiCmds() []*cobra.Command { return []*cobra.Command{usersCmd(), demoCmd()} }

// accounts manages the web UI's local accounts, in the store directly when
// no daemon runs on the home, else through the daemon's API.
type accounts interface {
	Add(ctx context.Context, name, password, role string) error
	SetRole(ctx context.Context, name, role string) error
	SetPassword(ctx context.Context, name, password string) error
	List(ctx context.Context) ([]node.UserView, error)
	Remove(ctx context.Context, name string) error
	Close() error
}

type localAccounts struct {
	n       *node.Node
	release func()
}

func (a *localAccounts) Add(_ context.Context, name, pw, role string) error {
	return a.n.AddUserRole(name, pw, role)
}
func (a *localAccounts) SetRole(_ context.Context, name, role string) error {
	return a.n.SetUserRole(name, role)
}
func (a *localAccounts) SetPassword(_ context.Context, name, pw string) error {
	return a.n.SetPassword(name, pw)
}
func (a *localAccounts) Remove(_ context.Context, name string) error { return a.n.DeleteUser(name) }
func (a *localAccounts) List(context.Context) ([]node.UserView, error) {
	out, err := a.n.Users()
	if out == nil {
		out = []node.UserView{}
	}
	return out, err
}
func (a *localAccounts) Close() error {
	err := a.n.Close()
	a.release()
	return err
}

type apiAccounts struct{ cl *node.Client }

func (a *apiAccounts) Add(ctx context.Context, name, pw, role string) error {
	return a.cl.Do(ctx, "POST", "/api/v1/users", map[string]string{"name": name, "password": pw, "role": role}, nil)
}
func (a *apiAccounts) SetRole(ctx context.Context, name, role string) error {
	return a.cl.Do(ctx, "PUT", apiPath("users", name, "role"), map[string]string{"role": role}, nil)
}
func (a *apiAccounts) SetPassword(ctx context.Context, name, pw string) error {
	return a.cl.Do(ctx, "PUT", apiPath("users", name, "password"), map[string]string{"password": pw}, nil)
}
func (a *apiAccounts) Remove(ctx context.Context, name string) error {
	return a.cl.Do(ctx, "DELETE", apiPath("users", name), nil, nil)
}
func (a *apiAccounts) List(ctx context.Context) ([]node.UserView, error) {
	var out []node.UserView
	err := a.cl.Do(ctx, "GET", "/api/v1/users", nil, &out)
	return out, err
}
func (a *apiAccounts) Close() error { return nil }

// withAccounts runs fn on the home's accounts (see openAccounts), with a
// context that ends on SIGINT or SIGTERM.
func withAccounts(fn func(cx context.Context, a accounts) error) error {
	a, err := openAccounts()
	if err != nil {
		return err
	}
	defer a.Close()
	cx, cancel := ctx()
	defer cancel()
	return fn(cx, a)
}

// openAccounts opens the home's store when no daemon holds it, else talks
// to the daemon.
func openAccounts() (accounts, error) {
	h := home()
	if _, err := os.Stat(h.Config()); err != nil {
		return nil, fmt.Errorf("%s is not a livinglab home (create one with: livinglab init --home %s --region NAME)", h.Dir, h.Dir)
	}
	release, err := h.TakeLock()
	if err != nil {
		cl, cerr := client()
		if cerr != nil {
			return nil, fmt.Errorf("%v, and its API cannot be reached: %w", err, cerr)
		}
		return &apiAccounts{cl: cl}, nil
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := node.New(h, node.Options{NoAPI: true, Logger: log})
	if err != nil {
		release()
		return nil, err
	}
	return &localAccounts{n: n, release: release}, nil
}

func usersCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "users",
		Short: "Manage the web UI's local accounts",
		Long: "Local accounts sign in to the web UI. These commands work on the home's store directly when no\n" +
			"daemon runs, and through the daemon's API (with the API token) when one does.",
	}
	var pwFile, role string
	add := command("add NAME [--role admin|champion] [--password-file FILE]", "Create an account (the password is asked for, or read from a file or standard input)", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		name := args[0]
		if err := knowledge.ValidUserName(name); err != nil {
			return err
		}
		pw, err := readPassword(cmd, pwFile, name)
		if err != nil {
			return err
		}
		return withAccounts(func(cx context.Context, a accounts) error {
			if role != "" {
				if _, err := knowledge.ParseRole(role); err != nil {
					return err
				}
			}
			if err := a.Add(cx, name, pw, role); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added %s. They sign in to the web UI (the address is printed by livinglab run).\n", name)
			return nil
		})
	})
	add.Long = "Creates a web UI account. Champions work with lab data, drafts, publishing, topics and search;\n" +
		"administrators may also make backups, invite regions and remove members. The node's first\n" +
		"account is an administrator, later ones are champions unless --role admin is given."
	add.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file (its first line)")
	add.Flags().StringVar(&role, "role", "", "admin or champion (default: admin for the node's first account, else champion)")
	roleCmd := command("role NAME admin|champion", "Change an account's role (signs it out everywhere)", cobra.ExactArgs(2), func(cmd *cobra.Command, args []string) error {
		if _, err := knowledge.ParseRole(args[1]); err != nil {
			return err
		}
		return withAccounts(func(cx context.Context, a accounts) error {
			if err := a.SetRole(cx, args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s.\n", args[0], args[1])
			return nil
		})
	})
	var pwFile2 string
	passwd := command("passwd NAME [--password-file FILE]", "Set an account's password (signs it out everywhere)", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		pw, err := readPassword(cmd, pwFile2, args[0])
		if err != nil {
			return err
		}
		return withAccounts(func(cx context.Context, a accounts) error {
			if err := a.SetPassword(cx, args[0], pw); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Changed the password of %s.\n", args[0])
			return nil
		})
	})
	passwd.Flags().StringVar(&pwFile2, "password-file", "", "read the password from this file (its first line)")
	var asJSON bool
	list := command("list [--json]", "List the accounts", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		return withAccounts(func(cx context.Context, a accounts) error {
			us, err := a.List(cx)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(w).Encode(us)
			}
			if len(us) == 0 {
				fmt.Fprintln(w, "No accounts. Add one with: livinglab users add NAME")
				return nil
			}
			tw := newTable(w, "NAME", "ROLE", "CREATED", "LAST SIGN-IN")
			for _, u := range us {
				last := "never"
				if !u.LastSeen.IsZero() {
					last = u.LastSeen.Local().Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, u.Created.Local().Format(time.DateOnly), last)
			}
			return tw.Flush()
		})
	})
	withJSON(list, &asJSON)
	remove := &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove an account (ends its sessions)",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAccounts(func(cx context.Context, a accounts) error {
				if err := a.Remove(cx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Removed %s.\n", args[0])
				return nil
			})
		},
	}
	c.AddCommand(add, roleCmd, passwd, list, remove)
	return c
}

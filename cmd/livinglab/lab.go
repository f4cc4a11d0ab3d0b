// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/livinglab/livinglab/knowledge"
	"github.com/livinglab/livinglab/node"
)

// labCmds returns the commands for the region's private lab data and the
// drafts that turn it into practices.
func labCmds() []*cobra.Command {
	lab := &cobra.Command{
		Use:   "lab",
		Short: "Record the region's lab work: initiatives, stakeholders, activities, evaluations, lessons",
		Long: "The lab data is private: it stays on this node. Only a draft practice assembled from it (draft create)\n" +
			"or a lesson, once anonymised, reviewed and published, leaves.",
	}
	var draftKind *knowledge.Kind
	for _, lk := range knowledge.LabKinds() {
		k := lk.Decl()
		if k.Route == "drafts" {
			draftKind = k
			continue
		}
		lab.AddCommand(labKindCmd(k))
	}
	lab.AddCommand(stagesCmd(), labExportCmd())

	draft := &cobra.Command{
		Use:   "draft",
		Short: "Assemble, edit, review and publish draft practices from the lab's initiatives",
		Long: "A draft is a practice assembled from an initiative: only the fields a public practice carries, with\n" +
			"stakeholder roles and never names. Edit it, preview exactly what would leave (every redaction shown),\n" +
			"approve that preview and publish it.",
	}
	draft.AddCommand(newDraftCreateCmd("create --initiative ID [--out FILE]"))
	draft.AddCommand(labEntityCmds(draftKind)...)
	draft.AddCommand(previewCmd(), draftApproveCmd(), draftPublishCmd())
	return []*cobra.Command{lab, draft}
}

// ---- generic entity commands ----

// labView is how the commands of a kind present it where the generic
// presentation does not fit.
type labView struct {
	use         string                              // the ID argument's name in usage lines
	list        func(w io.Writer, raw []byte) error // prints a list
	show        func(w io.Writer, raw []byte) error // prints one entity
	edited      func(w io.Writer, raw []byte) error // reports an edit
	editShort   string                              // what edit does
	editLong    string
	deleteShort string
	extra       func() []*cobra.Command // more commands of the kind
}

var labViews = map[string]labView{
	"lesson": {extra: func() []*cobra.Command { return []*cobra.Command{lessonPublishCmd()} }},
	"draft": {use: "DRAFT-ID", list: decoded(printDraftList), show: decoded(printDraftShow), edited: decoded(printDraftEdited),
		editShort: "Change a draft's fields (fields the file does not name are kept); clears its approval",
		editLong: "FILE holds a JSON object with the fields to change, e.g. {\"resources\": \"...\", \"topics\": [\"elderly-care\"]},\n" +
			"or a whole draft as written by draft create --out. Any edit clears the draft's approval.",
		deleteShort: "Delete a draft (a practice it published stays public: retract it with practice retract)"},
}

// decoded is a view that decodes the answer into a T for print.
func decoded[T any](print func(w io.Writer, v T) error) func(w io.Writer, raw []byte) error {
	return func(w io.Writer, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		return print(w, v)
	}
}

func labKindCmd(k *knowledge.Kind) *cobra.Command {
	c := &cobra.Command{Use: k.Name, Short: k.Short}
	c.AddCommand(labAddCmd(k))
	c.AddCommand(labEntityCmds(k)...)
	return c
}

// labEntityCmds returns list, show, edit and delete for a kind, and its
// extra commands.
func labEntityCmds(k *knowledge.Kind) []*cobra.Command {
	out := []*cobra.Command{labListCmd(k), labShowCmd(k), labEditCmd(k), labDeleteCmd(k)}
	if v := labViews[k.Name]; v.extra != nil {
		out = append(out, v.extra()...)
	}
	return out
}

func labPath(k *knowledge.Kind, id string) string {
	if id == "" {
		return "/api/v1/" + k.Route
	}
	return apiPath(k.Route, id)
}

func idUse(k *knowledge.Kind) string {
	if u := labViews[k.Name].use; u != "" {
		return u
	}
	return "ID"
}

// fieldFlags defines the command-line flag of each field type; the flag's
// value is read back through the returned function.
var fieldFlags = map[knowledge.FieldType]func(fs *pflag.FlagSet, name, usage string) func() any{
	knowledge.FieldText:   flagOf((*pflag.FlagSet).String, ""),
	knowledge.FieldInt:    flagOf((*pflag.FlagSet).Int, 0),
	knowledge.FieldTexts:  flagOf((*pflag.FlagSet).StringArray, nil),
	knowledge.FieldBool:   flagOf((*pflag.FlagSet).Bool, false),
	knowledge.FieldNumber: flagOf((*pflag.FlagSet).Float64, 0),
	knowledge.FieldCounts: flagOf((*pflag.FlagSet).StringToInt, nil),
	knowledge.FieldInts:   flagOf((*pflag.FlagSet).IntSlice, nil),
}

// flagOf turns a pflag definer (FlagSet.String, FlagSet.Int...) and the
// flag's default into a definition for fieldFlags.
func flagOf[T any](define func(fs *pflag.FlagSet, name string, def T, usage string) *T, def T) func(fs *pflag.FlagSet, name, usage string) func() any {
	return func(fs *pflag.FlagSet, name, usage string) func() any {
		p := define(fs, name, def, usage)
		return func() any { return *p }
	}
}

// addFieldFlags registers a flag per field that has one and returns a
// function that adds the flags given on the command line to a JSON body.
func addFieldFlags(fs *pflag.FlagSet, fields []knowledge.Field) func(body map[string]any) {
	vals := map[string]func() any{}
	for _, f := range fields {
		if define, ok := fieldFlags[f.Type]; ok && f.Flag != "" {
			vals[f.Key] = define(fs, f.Flag, f.Usage)
		}
	}
	return func(body map[string]any) {
		for _, f := range fields {
			if v, ok := vals[f.Key]; ok && fs.Changed(f.Flag) {
				body[f.Key] = v()
			}
		}
	}
}

// readJSONObject reads a JSON object from a file ("-" for standard input).
func readJSONObject(path string) (map[string]any, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s is not a JSON object: %w", path, err)
	}
	return m, nil
}

// labBody builds a request body from --file (if given) and the flags set.
func labBody(file string, fromFlags func(map[string]any)) (map[string]any, error) {
	body := map[string]any{}
	if file != "" {
		m, err := readJSONObject(file)
		if err != nil {
			return nil, err
		}
		body = m
	}
	fromFlags(body)
	return body, nil
}

func labAddCmd(k *knowledge.Kind) *cobra.Command {
	var file string
	var asJSON bool
	c := &cobra.Command{
		Use:   "add [flags] [--file JSON]",
		Short: "Record a new " + k.Name,
		Args:  cobra.NoArgs,
	}
	fromFlags := addFieldFlags(c.Flags(), k.Fields)
	c.Flags().StringVar(&file, "file", "", "JSON object with the fields (- for standard input); flags override it")
	withJSON(c, &asJSON)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		body, err := labBody(file, fromFlags)
		if err != nil {
			return err
		}
		delete(body, "id")
		var out map[string]any
		if err := call("POST", labPath(k, ""), body, &out); err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), out)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Recorded %s %s\n", k.Name, formatValue(out["id"]))
		return nil
	}
	return c
}

func labListCmd(k *knowledge.Kind) *cobra.Command {
	var initiative string
	var asJSON bool
	c := command("list [--json]", "List "+k.Plural, cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		path := withQuery(labPath(k, ""), "initiative", initiative)
		w := cmd.OutOrStdout()
		raw, done, err := labGet(w, path, asJSON, labViews[k.Name].list)
		if done || err != nil {
			return err
		}
		var items []map[string]any
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
		return printTable(w, k.Columns, items)
	})
	if k.ByInitiative {
		c.Flags().StringVar(&initiative, "initiative", "", "only those of this initiative")
	}
	return withJSON(c, &asJSON)
}

// labGet fetches path and prints it as it came (with --json) or through
// the kind's own view when it has one; done reports that it printed, and
// otherwise raw is left to the generic presentation.
func labGet(w io.Writer, path string, asJSON bool, view func(io.Writer, []byte) error) (raw json.RawMessage, done bool, err error) {
	if err := call("GET", path, nil, &raw); err != nil {
		return nil, true, err
	}
	if asJSON {
		_, err := w.Write(raw)
		return nil, true, err
	}
	if view != nil {
		return nil, true, view(w, raw)
	}
	return raw, false, nil
}

func printTable(w io.Writer, columns []string, items []map[string]any) error {
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = strings.ToUpper(c)
	}
	tw := newTable(w, head...)
	for _, it := range items {
		row := make([]string, len(columns))
		for i, c := range columns {
			row[i] = oneLine(formatValue(it[c]), 60)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// formatValue renders a decoded JSON value for people.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatValue(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + formatValue(x[k])
		}
		return strings.Join(parts, ", ")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func labShowCmd(k *knowledge.Kind) *cobra.Command {
	var asJSON bool
	c := command("show "+idUse(k)+" [--json]", "Show one "+k.Name, cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		w := cmd.OutOrStdout()
		raw, done, err := labGet(w, labPath(k, args[0]), asJSON, labViews[k.Name].show)
		if done || err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		keys := []string{"id"}
		for _, f := range k.Fields {
			keys = append(keys, f.Key)
		}
		printFields(w, m, append(keys, "created", "updated"))
		return nil
	})
	return withJSON(c, &asJSON)
}

// printFields prints "key: value" lines; multi-line values are indented.
func printFields(w io.Writer, m map[string]any, keys []string) {
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	for _, k := range keys {
		v := formatValue(m[k])
		if v == "" {
			continue
		}
		v = strings.ReplaceAll(strings.TrimRight(v, "\n"), "\n", "\n"+strings.Repeat(" ", width+2))
		fmt.Fprintf(w, "%-*s  %s\n", width, k, v)
	}
}

func labEditCmd(k *knowledge.Kind) *cobra.Command {
	var file string
	var asJSON bool
	v := labViews[k.Name]
	c := &cobra.Command{
		Use:   "edit " + idUse(k) + " [flags] [--file JSON]",
		Short: cmp.Or(v.editShort, "Change fields of a "+k.Name+" (fields not given are kept)"),
		Long:  v.editLong,
		Args:  cobra.ExactArgs(1),
	}
	fromFlags := addFieldFlags(c.Flags(), k.Fields)
	c.Flags().StringVar(&file, "file", "", "JSON object with the fields to change (- for standard input); flags override it")
	withJSON(c, &asJSON)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if file == "" && !slices.ContainsFunc(k.Fields, func(f knowledge.Field) bool { return f.Flag != "" }) {
			return fmt.Errorf("--file is required")
		}
		body, err := labBody(file, fromFlags)
		if err != nil {
			return err
		}
		delete(body, "id")
		if len(body) == 0 {
			return fmt.Errorf("nothing to change: give the fields to change as flags (see --help) or --file")
		}
		var out json.RawMessage
		if err := call("PUT", labPath(k, args[0]), body, &out); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if asJSON {
			return printJSON(w, out)
		}
		if v.edited != nil {
			return v.edited(w, out)
		}
		fmt.Fprintf(w, "Updated %s %s\n", k.Name, args[0])
		return nil
	}
	return c
}

func labDeleteCmd(k *knowledge.Kind) *cobra.Command {
	var cascade bool
	c := command("delete "+idUse(k), cmp.Or(labViews[k.Name].deleteShort, "Delete a "+k.Name), cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		path := labPath(k, args[0])
		if cascade {
			path += "?cascade=true"
		}
		if err := call("DELETE", path, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s %s\n", k.Name, args[0])
		return nil
	})
	if k.Cascade {
		c.Flags().BoolVar(&cascade, "cascade", false, "also delete its activities and evaluations")
	}
	return c
}

func lessonPublishCmd() *cobra.Command {
	var dryRun, asJSON bool
	c := command("publish ID [--dry-run]", "Anonymise, sign and publish a lesson to its topic", cobra.ExactArgs(1), func(cmd *cobra.Command, args []string) error {
		return publishAndPrint(cmd.OutOrStdout(), apiPath("lab/lessons", args[0], "publish"), nil, dryRun, asJSON,
			func(out node.PublishedLesson) outcome { return outcome{out.Report, out.Lesson, out.Topics, out.CID} })
	})
	c.Long = "Runs the lesson's insight and context through the anonymisation gate (failing closed: uncertain names\n" +
		"are redacted), prints the redaction report, signs and publishes it and prints its CID."
	c.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would leave")
	return withJSON(c, &asJSON)
}

func stagesCmd() *cobra.Command {
	var set string
	var asJSON bool
	c := command("stages [--set FILE] [--json]", "Show (or replace) the stages initiatives move through", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var st []knowledge.Stage
		if set != "" {
			var in []knowledge.Stage
			if err := readStrictJSON(set, &in, "a JSON array of stages"); err != nil {
				return err
			}
			if err := call("PUT", "/api/v1/lab/stages", in, &st); err != nil {
				return err
			}
		} else if err := call("GET", "/api/v1/lab/stages", nil, &st); err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if asJSON {
			return printJSON(w, st)
		}
		tw := newTable(w, "STAGE", "NAME", "GOAL")
		for _, s := range st {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Number, s.Name, s.Goal)
		}
		return tw.Flush()
	})
	c.Long = "Without --set, prints the stages. With --set, replaces them with the JSON array in FILE, e.g.\n" +
		`[{"name": "Ecosystem", "goal": "Establish the living-lab ecosystem."}, ...] (1 to 9 stages, numbered in order).`
	c.Flags().StringVar(&set, "set", "", "replace the stages with the JSON array in FILE")
	return withJSON(c, &asJSON)
}

func labExportCmd() *cobra.Command {
	var out string
	var noPersonal bool
	c := command("export [--out FILE]", "Export all lab data, personal data included, as JSON (for the region's administrator)", cobra.NoArgs, func(cmd *cobra.Command, _ []string) error {
		var raw json.RawMessage
		path := "/api/v1/lab/export"
		if noPersonal {
			path += "?personal=false"
		}
		if err := call("GET", path, nil, &raw); err != nil {
			return err
		}
		if out == "" {
			_, err := cmd.OutOrStdout().Write(raw)
			return err
		}
		if err := os.WriteFile(out, raw, 0o600); err != nil {
			return err
		}
		if noPersonal {
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %s, without the fields declared personal. Its free text may still name people.\n", out)
			return nil
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %s. It holds personal data: keep it as safe as the node.\n", out)
		return nil
	})
	c.Flags().StringVar(&out, "out", "", "write to FILE (mode 0600) instead of standard output")
	c.Flags().BoolVar(&noPersonal, "no-personal", false, "leave out the fields that hold personal data (names, contacts, consent)")
	return c
}

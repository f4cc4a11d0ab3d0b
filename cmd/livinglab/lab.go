// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

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
	for _, k := range labKinds {
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
	draft.AddCommand(newDraftCreateCmd("create --initiative ID [--out FILE]"), draftListCmd(), draftShowCmd(), draftEditCmd(),
		draftDeleteCmd(), previewCmd(), draftApproveCmd(), draftPublishCmd())
	return []*cobra.Command{lab, draft}
}

// labDo sends one API request to the daemon.
func labDo(method, path string, in, out any) error {
	cl, err := client()
	if err != nil {
		return err
	}
	cx, cancel := ctx()
	defer cancel()
	return cl.Do(cx, method, path, in, out)
}

// ---- generic entity commands ----

type fieldKind int

const (
	fString  fieldKind = iota
	fInt               // --stage 3
	fStrings           // repeatable: --topic a --topic b
	fBool              // --consent-given
	fFloat             // --before 14
	fCounts            // --count residents=12 --count carers=5
	fInts              // --ages 67,72,80
)

type labField struct {
	flag  string
	key   string
	kind  fieldKind
	usage string
}

type labKind struct {
	name, plural, path, short string
	fields                    []labField
	columns                   []string // list table
	show                      []string // extra keys shown after the fields
	filter                    bool     // list --initiative
	cascade                   bool     // delete --cascade
}

var labKinds = []labKind{
	{name: "initiative", plural: "initiatives", path: "/api/v1/lab/initiatives",
		short: "Services being co-produced",
		fields: []labField{
			{"title", "title", fString, "title"},
			{"service", "service", fString, "the public service co-produced"},
			{"description", "description", fString, "the problem and the aim (becomes the practice's problem)"},
			{"topic", "topics", fStrings, "topic slug such as elderly-care (repeatable)"},
			{"stage", "stage", fInt, "current stage (see lab stages)"},
			{"started", "started", fString, "start date YYYY-MM-DD"},
			{"ended", "ended", fString, "end date YYYY-MM-DD"},
			{"status", "status", fString, "planned, active, paused or completed"},
			{"language", "language", fString, "ISO 639-1 language of its texts, e.g. en, fi, sv"},
		},
		columns: []string{"id", "stage", "status", "language", "topics", "title"},
		show:    []string{"created", "updated"},
		cascade: true},
	{name: "stakeholder", plural: "stakeholders", path: "/api/v1/lab/stakeholders",
		short: "People and organisations taking part (personal data: never published)",
		fields: []labField{
			{"kind", "kind", fString, "person or organisation"},
			{"name", "name", fString, "name"},
			{"role", "role", fString, "role in the lab (the only thing a practice may carry, without the name)"},
			{"organisation", "organisation", fString, "organisation"},
			{"email", "email", fString, "e-mail address"},
			{"phone", "phone", fString, "phone number"},
			{"address", "address", fString, "postal address"},
			{"consent", "consent", fString, "what was consented to, when and how"},
			{"consent-given", "consent_given", fBool, "consent was given"},
			{"notes", "notes", fString, "notes"},
			{"initiative", "initiative_ids", fStrings, "initiative ID (repeatable)"},
		},
		columns: []string{"id", "kind", "name", "role", "organisation"},
		show:    []string{"created", "updated"},
		filter:  true},
	{name: "activity", plural: "activities", path: "/api/v1/lab/activities",
		short: "Workshops, interviews, pilots, meetings and surveys",
		fields: []labField{
			{"initiative", "initiative_id", fString, "initiative ID"},
			{"kind", "kind", fString, "workshop, interview, pilot, meeting, survey or other"},
			{"title", "title", fString, "title"},
			{"date", "date", fString, "date YYYY-MM-DD"},
			{"place", "place", fString, "place"},
			{"stage", "stage", fInt, "stage it belongs to (default: the initiative's current stage)"},
			{"attendee", "attendees", fStrings, "attendee name (repeatable; private, only counted)"},
			{"notes", "notes", fString, "notes (scrubbed by the anonymisation gate before anything leaves)"},
			{"count", "counts", fCounts, "participants by group, GROUP=N (repeatable)"},
			{"ages", "ages", fInts, "participants' ages, comma-separated"},
		},
		columns: []string{"id", "date", "kind", "stage", "title", "place"},
		show:    []string{"created", "updated"},
		filter:  true},
	{name: "evaluation", plural: "evaluations", path: "/api/v1/lab/evaluations",
		short: "Indicators before and after, and feedback",
		fields: []labField{
			{"initiative", "initiative_id", fString, "initiative ID"},
			{"indicator", "indicator", fString, "what was measured"},
			{"unit", "unit", fString, "unit, e.g. days or %"},
			{"before", "before", fFloat, "value before"},
			{"after", "after", fFloat, "value after"},
			{"period", "period", fString, "period measured, e.g. 2016-2017"},
			{"quote", "quotes", fStrings, "feedback quote (repeatable)"},
			{"notes", "notes", fString, "notes"},
		},
		columns: []string{"id", "indicator", "before", "after", "unit", "period"},
		show:    []string{"created", "updated"},
		filter:  true},
	{name: "lesson", plural: "lessons", path: "/api/v1/lab/lessons",
		short: "Lessons learnt, published one by one",
		fields: []labField{
			{"initiative", "initiative_id", fString, "initiative ID (optional)"},
			{"insight", "insight", fString, "the insight, in a sentence or two"},
			{"context", "context", fString, "its context"},
			{"stage", "stage", fInt, "stage it concerns"},
			{"topic", "topic", fString, "topic slug (default: the initiative's first topic)"},
			{"language", "language", fString, "ISO 639-1 language (default: the initiative's)"},
		},
		columns: []string{"id", "stage", "topic", "published", "insight"},
		show:    []string{"published", "created", "updated"},
		filter:  true},
}

func labKindCmd(k labKind) *cobra.Command {
	c := &cobra.Command{Use: k.name, Short: k.short}
	c.AddCommand(labAddCmd(k), labListCmd(k), labShowCmd(k), labEditCmd(k), labDeleteCmd(k))
	if k.name == "lesson" {
		c.AddCommand(lessonPublishCmd())
	}
	return c
}

// addFieldFlags registers a flag per field and returns a function that
// adds the flags given on the command line to a JSON body.
func addFieldFlags(fs *pflag.FlagSet, fields []labField) func(body map[string]any) {
	vals := map[string]any{}
	for _, f := range fields {
		switch f.kind {
		case fString:
			vals[f.flag] = fs.String(f.flag, "", f.usage)
		case fInt:
			vals[f.flag] = fs.Int(f.flag, 0, f.usage)
		case fStrings:
			vals[f.flag] = fs.StringArray(f.flag, nil, f.usage)
		case fBool:
			vals[f.flag] = fs.Bool(f.flag, false, f.usage)
		case fFloat:
			vals[f.flag] = fs.Float64(f.flag, 0, f.usage)
		case fCounts:
			vals[f.flag] = fs.StringToInt(f.flag, nil, f.usage)
		case fInts:
			vals[f.flag] = fs.IntSlice(f.flag, nil, f.usage)
		}
	}
	return func(body map[string]any) {
		for _, f := range fields {
			if !fs.Changed(f.flag) {
				continue
			}
			switch v := vals[f.flag].(type) {
			case *string:
				body[f.key] = *v
			case *int:
				body[f.key] = *v
			case *[]string:
				body[f.key] = *v
			case *bool:
				body[f.key] = *v
			case *float64:
				body[f.key] = *v
			case *map[string]int:
				body[f.key] = *v
			case *[]int:
				body[f.key] = *v
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

func labAddCmd(k labKind) *cobra.Command {
	var file string
	var asJSON bool
	c := &cobra.Command{
		Use:   "add [flags] [--file JSON]",
		Short: "Record a new " + k.name,
		Args:  cobra.NoArgs,
	}
	fromFlags := addFieldFlags(c.Flags(), k.fields)
	c.Flags().StringVar(&file, "file", "", "JSON object with the fields (- for standard input); flags override it")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		body, err := labBody(file, fromFlags)
		if err != nil {
			return err
		}
		delete(body, "id")
		var out map[string]any
		if err := labDo("POST", k.path, body, &out); err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), out)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Recorded %s %s\n", k.name, formatValue(out["id"]))
		return nil
	}
	return c
}

func labListCmd(k labKind) *cobra.Command {
	var initiative string
	var asJSON bool
	c := &cobra.Command{
		Use:   "list [--json]",
		Short: "List " + k.plural,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := k.path
			if initiative != "" {
				path += "?initiative=" + url.QueryEscape(initiative)
			}
			var raw json.RawMessage
			if err := labDo("GET", path, nil, &raw); err != nil {
				return err
			}
			if asJSON {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			var items []map[string]any
			if err := json.Unmarshal(raw, &items); err != nil {
				return err
			}
			return printTable(cmd.OutOrStdout(), k.columns, items)
		},
	}
	if k.filter {
		c.Flags().StringVar(&initiative, "initiative", "", "only those of this initiative")
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printTable(w io.Writer, columns []string, items []map[string]any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = strings.ToUpper(c)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
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

func labShowCmd(k labKind) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show one " + k.name,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw json.RawMessage
			if err := labDo("GET", k.path+"/"+url.PathEscape(args[0]), nil, &raw); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				_, err := w.Write(raw)
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			keys := []string{"id"}
			for _, f := range k.fields {
				keys = append(keys, f.key)
			}
			keys = append(keys, k.show...)
			printFields(w, m, keys)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
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

func labEditCmd(k labKind) *cobra.Command {
	var file string
	var asJSON bool
	c := &cobra.Command{
		Use:   "edit ID [flags] [--file JSON]",
		Short: "Change fields of a " + k.name + " (fields not given are kept)",
		Args:  cobra.ExactArgs(1),
	}
	fromFlags := addFieldFlags(c.Flags(), k.fields)
	c.Flags().StringVar(&file, "file", "", "JSON object with the fields to change (- for standard input); flags override it")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := labBody(file, fromFlags)
		if err != nil {
			return err
		}
		delete(body, "id")
		if len(body) == 0 {
			return fmt.Errorf("nothing to change: give the fields to change as flags (see --help) or --file")
		}
		var out map[string]any
		if err := labDo("PUT", k.path+"/"+url.PathEscape(args[0]), body, &out); err != nil {
			return err
		}
		if asJSON {
			return printJSON(cmd.OutOrStdout(), out)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "Updated %s %s\n", k.name, args[0])
		return nil
	}
	return c
}

func labDeleteCmd(k labKind) *cobra.Command {
	var cascade bool
	c := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a " + k.name,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := k.path + "/" + url.PathEscape(args[0])
			if cascade {
				path += "?cascade=true"
			}
			if err := labDo("DELETE", path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s %s\n", k.name, args[0])
			return nil
		},
	}
	if k.cascade {
		c.Flags().BoolVar(&cascade, "cascade", false, "also delete its activities and evaluations")
	}
	return c
}

func lessonPublishCmd() *cobra.Command {
	var dryRun, asJSON bool
	c := &cobra.Command{
		Use:   "publish ID [--dry-run]",
		Short: "Anonymise, sign and publish a lesson to its topic",
		Long: "Runs the lesson's insight and context through the anonymisation gate (failing closed: uncertain names\n" +
			"are redacted), prints the redaction report, signs and publishes it and prints its CID.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/api/v1/lab/lessons/" + url.PathEscape(args[0]) + "/publish"
			if dryRun {
				path += "?dry_run=true"
			}
			var out node.PublishedLesson
			if err := labDo("POST", path, nil, &out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, out)
			}
			printReport(w, out.Report)
			if dryRun {
				fmt.Fprintln(w, "Dry run: nothing was signed or sent. This is what would leave:")
				return printJSON(w, out.Lesson)
			}
			fmt.Fprintf(w, "Published to %s\n%s\n", strings.Join(out.Topics, ", "), out.CID)
			return nil
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would leave")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func stagesCmd() *cobra.Command {
	var set string
	var asJSON bool
	c := &cobra.Command{
		Use:   "stages [--set FILE] [--json]",
		Short: "Show (or replace) the stages initiatives move through",
		Long: "Without --set, prints the stages. With --set, replaces them with the JSON array in FILE, e.g.\n" +
			`[{"name": "Ecosystem", "goal": "Establish the living-lab ecosystem."}, ...] (1 to 9 stages, numbered in order).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st []knowledge.Stage
			if set != "" {
				b, err := os.ReadFile(set)
				if err != nil {
					return err
				}
				var in []knowledge.Stage
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&in); err != nil {
					return fmt.Errorf("%s is not a JSON array of stages: %w", set, err)
				}
				if err := labDo("PUT", "/api/v1/lab/stages", in, &st); err != nil {
					return err
				}
			} else if err := labDo("GET", "/api/v1/lab/stages", nil, &st); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, st)
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "STAGE\tNAME\tGOAL")
			for _, s := range st {
				fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Number, s.Name, s.Goal)
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&set, "set", "", "replace the stages with the JSON array in FILE")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func labExportCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "export [--out FILE]",
		Short: "Export all lab data, personal data included, as JSON (for the region's administrator)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var raw json.RawMessage
			if err := labDo("GET", "/api/v1/lab/export", nil, &raw); err != nil {
				return err
			}
			if out == "" {
				_, err := cmd.OutOrStdout().Write(raw)
				return err
			}
			if err := os.WriteFile(out, raw, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %s. It holds personal data: keep it as safe as the node.\n", out)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "write to FILE (mode 0600) instead of standard output")
	return c
}

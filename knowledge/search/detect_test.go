// SPDX-License-Identifier: EUPL-1.2

package search

import "testing"

func TestDetectLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"older people living alone", "en"},
		{"ikääntyneiden kotihoito", "fi"},
		{"boende för äldre", "sv"},
		{"eldre som bor alene", "no"},
		{"ældre der bor alene", "da"},
		{"heimaþjónusta fyrir aldraða", "is"},
		{"daoine scothaosta", "ga"},
		{"", ""},
		{"12345", ""},
	} {
		if got := DetectLanguage(tc.text); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.text, got, tc.want)
		}
	}
}

package projection

import "sort"

// CommandNames returns the lower-case names of the commands Apply knows
// (the rows of commandTable), sorted: the writes it applies and the
// control commands it accepts. Package commands' tests check each has a
// write row in the command table of every personality that has it.
func CommandNames() []string {
	var names []string
	for _, c := range commandTable() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

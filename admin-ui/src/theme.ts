import { Combobox, createTheme } from "@mantine/core";

export const theme = createTheme({
  primaryColor: "indigo",
  defaultRadius: "md",
  components: {
    // Closed dropdowns are not kept in the page: their hidden listbox would share the field's
    // label, so "the field labelled Store" would not be a single element.
    Combobox: Combobox.extend({ defaultProps: { keepMounted: false } }),
  },
});

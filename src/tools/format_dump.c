/* khgps-format: the run file's format as JSON (analysis/khgps/format.json, `make format`), printed
   from the tables the writer, the reader and the log use (record.c), so that the Python readers,
   the merge and the docs take the format from one place. No PETSc initialization: it only reads
   constant tables. */
#include <stdio.h>
#include <string.h>
#include "khgps_result.h"

static void Names(const char *const *names)
{
  printf("[");
  for (int k = 0; names[k]; k++) printf("%s\"%s\"", k ? ", " : "", names[k]);
  printf("]");
}

int main(void)
{
  static char layout[16384];
  const char *dtype[] = {"float64", "float32"};

  printf("{\n  \"generated_by\": \"bin/khgps-format (src/tools/format_dump.c) from src/record.c; do not edit, run make format\",\n");
  printf("  \"format\": \"%s\",\n  \"pending_format\": \"%s\",\n", KHGPS_FORMAT, KHGPS_PENDING_FORMAT);
  printf("  \"scalars\": [\n");
  for (int k = 0; k < KhgpsRecordNScalars; k++) {
    const KhgpsRecordScalar *s = &KhgpsRecordScalars[k];
    printf("    {\"name\": \"%s\", \"type\": \"%s\", \"enum\": ", s->name, s->isint ? "int" : "real");
    if (s->names) Names(s->names);
    else printf("null");
    printf(", \"optional\": %s}%s\n", s->optional ? "true" : "false", k + 1 < KhgpsRecordNScalars ? "," : "");
  }
  printf("  ],\n  \"names\": [{\"name\": \"status_name\", \"of\": \"status\", \"enum\": [");
  for (int k = 0; k < 3; k++) printf("%s\"%s\"", k ? ", " : "", KhgpsStatusNames[k]); /* a PETSc enum list: names, type, prefix */
  printf("]}, {\"name\": \"tao_reason_name\", \"of\": \"tao_reason\", \"enum\": null}],\n");
  printf("  \"arrays\": [\n");
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    const KhgpsRecordArray *a = &KhgpsRecordArrays[k];
    printf("    {\"name\": \"%s\", \"length\": \"%s\", \"dtype\": \"%s\", \"optional\": %s}%s\n", a->name, KhgpsRecordLengthNames[a->length], dtype[a->float32 ? 1 : 0], a->optional ? "true" : "false", k + 1 < KhgpsRecordNArrays ? "," : "");
  }
  printf("  ],\n  \"couplings\": {\"name\": \"J\", \"length\": \"N*N\", \"dtype\": \"float64\", \"optional\": true},\n");
  printf("  \"pending_head\": ");
  Names(KhgpsRecordHead);
  printf(",\n  \"pending_layout\": [\n");
  KhgpsRecordLayout(layout, sizeof(layout));
  for (char *line = strtok(layout, "\n"), *next; line; line = next) {
    next = strtok(NULL, "\n");
    printf("    \"%s\"%s\n", line, next ? "," : "");
  }
  printf("  ]\n}\n");
  return 0;
}

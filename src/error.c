/* error.c: failures reported in one line: a PETSc error handler that keeps the first message for
   the caller to report (set-up checks, appends, the fold). */
#include <stdio.h>
#include "khgps_error.h"

/* An error handler that keeps the first message in ctx (a char[KHGPS_MSG_LEN]) and prints nothing:
   the caller reports the failure in one line. */
PetscErrorCode KhgpsCaptureErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  char *buf = (char *)ctx;

  (void)comm, (void)line, (void)fun, (void)file;
  if (p == PETSC_ERROR_INITIAL && buf && !buf[0]) snprintf(buf, KHGPS_MSG_LEN, "%s", mess ? mess : "(no message)");
  return n;
}

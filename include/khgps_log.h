/* khgps_log.h: the -log_view stages and events (log.c). */
#ifndef KHGPS_LOG_H
#define KHGPS_LOG_H

#include <petscmat.h>

/* log.c: every -log_view stage and event, registered once by KhgpsLogRegister */
typedef struct {
  PetscLogStage draw, minimize, spectrum, write;                                /* the phases of a realization */
  PetscLogEvent factor, factor_fill, factor_f32, factor_f32_fill, jx, jx_block; /* packed storage */
  PetscLogEvent ordered_mult, filter_apply, bounds;                             /* sparse */
  PetscLogEvent blk_solve, blk_ortho, blk_ritz, blk_rr, blk_refine;             /* block eigensolver */
} KhgpsLogIds;
extern KhgpsLogIds KhgpsLog;
PetscErrorCode     KhgpsLogRegister(void);

#endif

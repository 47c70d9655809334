/* log.c: every -log_view stage and event of khgps, registered once (KhgpsLogRegister, from main
   and the test programs before any work), so that -log_view splits the time by phase: Draw,
   Minimize, Spectrum and Write, and inside them the kernels' events. */
#include "khgps_log.h"

KhgpsLogIds KhgpsLog;

PetscErrorCode KhgpsLogRegister(void)
{
  static PetscBool done = PETSC_FALSE;
  PetscClassId     blk;

  PetscFunctionBeginUser;
  if (done) PetscFunctionReturn(0);
  PetscCall(PetscLogStageRegister("Draw", &KhgpsLog.draw));
  PetscCall(PetscLogStageRegister("Minimize", &KhgpsLog.minimize));
  PetscCall(PetscLogStageRegister("Spectrum", &KhgpsLog.spectrum));
  PetscCall(PetscLogStageRegister("Write", &KhgpsLog.write));
  /* packed storage (packed.c, symvf.c), the sparse ordered product (repro.c) and filter (filter.c) */
  PetscCall(PetscLogEventRegister("KhgpsFactor", MAT_CLASSID, &KhgpsLog.factor));
  PetscCall(PetscLogEventRegister("KhgpsFactorFill", MAT_CLASSID, &KhgpsLog.factor_fill));
  PetscCall(PetscLogEventRegister("KhgpsFactorF32", MAT_CLASSID, &KhgpsLog.factor_f32));
  PetscCall(PetscLogEventRegister("KhgpsFactorF32Fill", MAT_CLASSID, &KhgpsLog.factor_f32_fill));
  PetscCall(PetscLogEventRegister("KhgpsJx", MAT_CLASSID, &KhgpsLog.jx));
  PetscCall(PetscLogEventRegister("KhgpsJxBlock", MAT_CLASSID, &KhgpsLog.jx_block));
  PetscCall(PetscLogEventRegister("KhgpsOrderedMult", MAT_CLASSID, &KhgpsLog.ordered_mult));
  PetscCall(PetscLogEventRegister("KhgpsFilterApply", MAT_CLASSID, &KhgpsLog.filter_apply));
  PetscCall(PetscLogEventRegister("KhgpsBounds", MAT_CLASSID, &KhgpsLog.bounds));
  /* the block eigensolver (blockeig.c) */
  PetscCall(PetscClassIdRegister("khgps block eigensolver", &blk));
  PetscCall(PetscLogEventRegister("BlkSolve", blk, &KhgpsLog.blk_solve));
  PetscCall(PetscLogEventRegister("BlkOrtho", blk, &KhgpsLog.blk_ortho));
  PetscCall(PetscLogEventRegister("BlkRitz", blk, &KhgpsLog.blk_ritz));
  PetscCall(PetscLogEventRegister("BlkRayleighRitz", blk, &KhgpsLog.blk_rr));
  PetscCall(PetscLogEventRegister("BlkRefineF32", blk, &KhgpsLog.blk_refine));
  done = PETSC_TRUE;
  PetscFunctionReturn(0);
}

/** PlanFeatures: lists the date partitions to build and fixes the training cut-off. */
import { taskHandler } from '../lib/lambda/task-handler.ts';
import { planFeatures } from '../lib/pipeline/data-steps.ts';
import { FeaturePlanSchema, PlanFeaturesInputSchema, STATES } from '../lib/shared/pipeline.ts';

export const handler = taskHandler(STATES.planFeatures, PlanFeaturesInputSchema, FeaturePlanSchema, ({ run }) => planFeatures(run));

/** Models: the contract, logistic regression, MLP, local training and evaluation. */
export type { Model, ModelSpec, ParamBlock } from './model.js';
export { LogisticRegression } from './logistic.js';
export { Mlp, type MlpSpec } from './mlp.js';
export { createModel } from './create-model.js';
export { trainLocal, evaluateModel, type TrainOptions, type TrainResult } from './train.js';
export { gradientCheck } from './gradient-check.js';

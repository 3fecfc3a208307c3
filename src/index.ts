/**
 * EduFed's public API, by layer. Import from here, or from a layer's own index for a narrower surface.
 */
export * as core from './core/index.js';
export * as data from './data/index.js';
export * as datasets from './data/datasets/index.js';
export * as models from './models/index.js';
export * as strategy from './strategy/index.js';
export * as transport from './transport/index.js';
export * as horizontal from './federation/horizontal/index.js';
export * as coordinator from './coordinator/index.js';
export * as participant from './participant/index.js';
export * as simulation from './simulation/index.js';

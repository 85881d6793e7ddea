export { type Demo, type DemoOptions, demoBanner, startDemo } from './demo.js';

/** Entry point of the browser bundle: mounts the app on #app. */
import { render } from 'preact';
import { App } from './ui/App.js';

const root = document.getElementById('app');
if (root) render(<App />, root);

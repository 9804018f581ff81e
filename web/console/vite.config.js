import { defineConfig } from 'vite';
import { appConfig } from '../common/vite.js';

export default defineConfig(appConfig('console', '/console/', 'console'));

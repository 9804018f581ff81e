import { makeI18n } from '@common/i18n.js';
import messages from './messages.js';

export const { locale, setLocale, t } = makeI18n(messages, 'wangjie.reader.locale');

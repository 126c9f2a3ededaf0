# The one catalog of UI text, Chinese and English; the language is a terminal parameter.
# Never build user-visible text elsewhere, and never put card data into a message.

LANGUAGES = ("zh", "en")

# key: (zh, en). "{}" is filled by text(key, lang, *args).
_CATALOG = {
    "idle_batch": ("批次 {}", "Batch {}"),
    "idle_online": ("网络正常", "Link up"),
    "idle_offline": ("无网络", "Link down"),
    "idle_hint": ("确认键进入菜单", "ENTER for menu"),
    "params_damaged": ("参数曾损坏,请核对", "Params damaged: check"),
    "menu_title": ("主菜单", "Main menu"),
    "menu_sale": ("消费", "Sale"),
    "menu_void": ("消费撤销", "Void"),
    "menu_refund": ("退货", "Refund"),
    "menu_settle": ("结算", "Settlement"),
    "menu_reprint": ("重打印", "Reprint"),
    "menu_query": ("查询", "Query"),
    "menu_operators": ("操作员", "Operators"),
    "menu_admin": ("系统管理", "Admin"),
    "amount_prompt": ("请输入金额", "Enter amount"),
    "amount_zero": ("金额不能为零", "Amount cannot be 0"),
    "amount_over": ("超过单笔限额", "Over the limit"),
    "amount_limit": ("限额 {}", "Limit {}"),
    "card_prompt": ("请刷卡/插卡/挥卡", "Swipe, insert or tap"),
    "card_unreadable": ("读卡失败,请重试", "Card read failed"),
    "card_bad_number": ("无效卡号", "Invalid card number"),
    "card_expired": ("卡已过期", "Card expired"),
    "card_insert_chip": ("IC卡请插卡", "Chip card: insert it"),
    "card_number": ("卡号", "Card number"),
    "scan_accepted": ("已扫码", "Code scanned"),
    "not_available": ("功能暂未开通", "Not available yet"),
    "press_any_key": ("按任意键返回", "Press any key"),
    "retry_card": ("请重新读卡", "Present card again"),
    "storage_corrupt": ("存储数据损坏", "Stored data damaged"),
    "storage_failed": ("存储故障", "Storage failing"),
    "counters_lost": ("流水号丢失,请到系统管理恢复", "Counters lost: see Admin"),
    "params_identity_lost": ("终端参数丢失", "Terminal ID lost"),
    "error": ("操作失败", "Operation failed"),
    # A device that raised HalError (firmware/terminal.py): "<device> fault" on the idle screen.
    "device_fault": ("{}故障", "{} fault"),
    "dev_keypad": ("键盘", "Keypad"),
    "dev_display": ("显示屏", "Display"),
    "dev_card_reader": ("读卡器", "Card reader"),
    "dev_signature_pad": ("签名板", "Signature pad"),
    "dev_link": ("通讯模块", "Link"),
    "dev_system": ("看门狗", "Watchdog"),
    "dev_pin_entry": ("密码键盘", "PIN pad"),
    # The clock-valid state and the service menu (系统管理, firmware/service.py).
    "clock_not_set": ("时间未设置", "Clock not set"),
    "clock_set_hint": ("请在系统管理中设置", "Set it in Admin"),
    "svc_title": ("系统管理", "Admin"),
    "svc_set_time": ("设置日期时间", "Set date and time"),
    "svc_about": ("关于本机", "About"),
    "svc_faults": ("存储故障记录", "Stored-data faults"),
    "svc_recover": ("恢复流水号", "Recover counters"),
    "svc_time_prompt": ("输入年月日时分", "Enter YYYYMMDDHHMM"),
    "svc_time_invalid": ("日期时间无效", "Not a valid time"),
    "svc_time_set": ("时间已设置", "Clock set"),
    "svc_version": ("版本 {}", "Version {}"),
    "svc_built": ("编译日期 {}", "Built {}"),
    "svc_terminal": ("终端号 {}", "Terminal {}"),
    "svc_no_tmk": ("主密钥未装载", "No master key"),
    "svc_load_tmk": ("装载主密钥", "Load master key"),
    "svc_tmk_parts": ("分量个数 2 或 3", "Components: 2 or 3"),
    "svc_tmk_part": ("第 {} 分量 (共 {})", "Component {} of {}"),
    "svc_tmk_digits": ("已输入 {}/32", "Typed {}/32"),
    "svc_tmk_hex": ("功能键+1..6 = A..F", "FUNC 1..6 = A..F"),
    "svc_tmk_loaded": ("主密钥已装载", "Master key loaded"),
    "svc_tmk_cancelled": ("主密钥未更改", "Master key unchanged"),
    "svc_no_key_entry": ("本机不支持", "Not on this terminal"),
    "svc_no_keys": ("无工作密钥", "No working keys"),
    "svc_key_fault": ("密钥故障", "Key fault"),
    "svc_no_faults": ("无故障记录", "No faults recorded"),
    "svc_touch_cal": ("触摸屏校准", "Calibrate touch"),
    "svc_cal_tap": ("请点击十字 {}/3", "Tap the cross {}/3"),
    "svc_cal_failed": ("校准失败, 请重试", "Failed: tap again"),
    "svc_cal_done": ("校准已保存", "Calibration saved"),
    "svc_no_touch": ("本机无触摸屏", "No touch screen"),
    "svc_counters_lost": ("流水号已丢失", "Counters lost"),
    "svc_next_trace": ("下一流水号 {}", "Next trace {}"),
    "svc_recover_what": ("流水号向前跳号", "Skip trace numbers"),
    "svc_confirm": ("确认键继续", "ENTER to continue"),
    "svc_confirm_again": ("再按确认键执行", "ENTER again to do it"),
    "svc_recovered": ("流水号已恢复", "Counters recovered"),
    # Host answers: firmware.host.codec.ProtocolError and the response codes (messages.response_key)
    "host_protocol": ("主机报文错误", "Bad host message"),
    "rc_00": ("交易成功", "Approved"),
    "rc_03": ("无效商户", "Invalid merchant"),
    "rc_05": ("不予承兑", "Do not honour"),
    "rc_12": ("无效交易", "Invalid transaction"),
    "rc_13": ("无效金额", "Invalid amount"),
    "rc_14": ("无效卡号", "Invalid card number"),
    "rc_25": ("找不到原交易", "Original not found"),
    "rc_30": ("报文格式错误", "Format error"),
    "rc_35": ("超出可退货金额", "Refund over original"),
    "rc_41": ("挂失卡", "Lost card"),
    "rc_43": ("被窃卡", "Stolen card"),
    "rc_51": ("余额不足", "Insufficient funds"),
    "rc_54": ("卡已过期", "Expired card"),
    "rc_55": ("密码错误", "Incorrect PIN"),
    "rc_57": ("持卡人无此交易权限", "Not allowed for card"),
    "rc_58": ("终端无此交易权限", "Not allowed here"),
    "rc_61": ("超出金额限制", "Amount over limit"),
    "rc_75": ("密码错误次数超限", "PIN tries exceeded"),
    "rc_91": ("发卡行不能操作", "Issuer unavailable"),
    "rc_94": ("重复交易", "Duplicate"),
    "rc_96": ("系统故障", "System malfunction"),
    "rc_98": ("发卡行无应答", "Issuer timed out"),
    "rc_A0": ("MAC校验错,请重签到", "MAC error: sign in"),
    "rc_other": ("交易失败 {}", "Declined {}"),
    # A dead part of the card reader (hal.cards.CardSources): the others go on reading.
    "card_source_dead": ("读卡故障:{}", "Reader fault: {}"),
    "cardsrc_swipe": ("磁条", "stripe"),
    "cardsrc_insert": ("芯片", "chip"),
    "cardsrc_tap": ("非接", "tap"),
    "cardsrc_scan": ("扫码", "scan"),
}


def text(key, lang, *args):
    """The message `key` in language `lang` ("zh" or "en"); an unknown key shows as itself."""
    pair = _CATALOG.get(key)
    if pair is None:
        return key
    s = pair[1] if lang == "en" else pair[0]
    return s.format(*args) if args else s


def keys():
    """All catalog keys, sorted (for tests)."""
    return sorted(_CATALOG)

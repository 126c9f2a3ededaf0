# The one catalog of UI text, Chinese and English; the language is a terminal parameter.
# Never build user-visible text elsewhere, and never put card data into a message.

LANGUAGES = ("zh", "en")

# key: (zh, en). "{}" is filled by text(key, lang, *args).
_CATALOG = {
    "idle_batch": ("批次 {}", "Batch {}"),
    "idle_online": ("网络正常", "Link up"),
    "idle_offline": ("无网络", "Link down"),
    "idle_hint": ("确认键进入菜单", "ENTER for menu"),
    "params_damaged": ("参数损坏,已用默认值", "Params damaged: defaults"),
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
    "error": ("操作失败", "Operation failed"),
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
